package config_test

import "testing"

// TestRedisTLSFilesNeedTLS: the Redis store refuses ca_file and
// server_name without TLS, so validation does too (it used to warn, and
// serve then failed without a path).
func TestRedisTLSFilesNeedTLS(t *testing.T) {
	base := "mode: demo\nstore:\n  type: redis\n  redis:\n    addrs: [\"127.0.0.1:6379\"]\n    allow_plain: true\n"
	checkSection(t, base, "store.redis", []sectionCase{
		{"ca_file without tls", "    ca_file: /etc/hosts\n", "store.redis.ca_file"},
		{"server_name without tls", "    server_name: redis.corp.example\n", "store.redis.server_name"},
		{"plain", "", ""},
	})
}
