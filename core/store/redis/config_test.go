package redis_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/redis"
)

func TestConfigYAML(t *testing.T) {
	const doc = `
addrs: [s1:26379, s2:26379]
master_name: mymaster
username: resetbot
password: pw-from-file
tls: true
server_name: redis.internal
key_prefix: "resetbot:"
dial_timeout: 1s
read_timeout: 1500ms
pool_size: 20
`
	c := redis.DefaultConfig()
	if err := yaml.Unmarshal([]byte(doc), c); err != nil {
		t.Fatal(err)
	}
	if len(c.Addrs) != 2 || c.MasterName != "mymaster" || c.Password.Reveal() != "pw-from-file" ||
		!c.TLS || c.KeyPrefix != "resetbot:" || c.DialTimeout != time.Second ||
		c.ReadTimeout != 1500*time.Millisecond || c.PoolSize != 20 || c.ReplicaAckGrace != redis.DefaultReplicaAckGrace {
		t.Fatalf("decoded %+v", c)
	}
	if err := plugin.Check(c, "store.redis", true).Err(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) == "" || strings.Contains(string(out), "pw-from-file") {
		t.Fatalf("marshalled config leaks the password:\n%s", out)
	}
}

// TestValidate: each problem is reported at its setting's path, in every
// mode, and all at once.
func TestValidate(t *testing.T) {
	ca := t.TempDir() + "/ca.pem"
	writeFile(t, ca)
	acks, zero := 17, 0
	tests := []struct {
		name       string
		cfg        redis.Config
		production bool
		want       []string // error paths; none: valid
	}{
		{"single", redis.Config{Addrs: []string{"localhost:6379"}}, false, nil},
		{"sentinel", redis.Config{Addrs: []string{"s1:26379", "s2:26379"}, MasterName: "mymaster", DB: 2}, false, nil},
		{"cluster", redis.Config{Addrs: []string{"a:1", "b:2"}}, false, nil},
		{"tls", redis.Config{Addrs: []string{"r:6380"}, TLS: true, CAFile: ca, ServerName: "r"}, true, nil},
		{"plain allowed", redis.Config{Addrs: []string{"r:6379"}, AllowPlain: true}, true, nil},
		{"plain in production", redis.Config{Addrs: []string{"r:6379"}}, true, []string{"store.redis.tls"}},
		{"no addrs", redis.Config{}, false, []string{"store.redis.addrs"}},
		{"bad addr", redis.Config{Addrs: []string{"redis:6379", "nope"}}, true,
			[]string{"store.redis.addrs[1]", "store.redis.tls"}},
		{"db range", redis.Config{Addrs: []string{"a:1"}, DB: 16}, false, []string{"store.redis.db"}},
		{"cluster db", redis.Config{Addrs: []string{"a:1", "b:2"}, DB: 1}, false, []string{"store.redis.db"}},
		{"forced cluster db", redis.Config{Addrs: []string{"a:1"}, Cluster: true, DB: 1}, false, []string{"store.redis.db"}},
		{"sentinel and cluster", redis.Config{Addrs: []string{"a:1"}, Cluster: true, MasterName: "m"}, false,
			[]string{"store.redis.cluster"}},
		// ca_file and server_name without TLS: the store would not use
		// them, so validation refuses them (check-config and serve agree).
		{"ca without tls", redis.Config{Addrs: []string{"a:1"}, AllowPlain: true, CAFile: ca}, true,
			[]string{"store.redis.ca_file"}},
		{"server name without tls", redis.Config{Addrs: []string{"a:1"}, ServerName: "r"}, false,
			[]string{"store.redis.server_name"}},
		{"missing ca", redis.Config{Addrs: []string{"a:1"}, TLS: true, CAFile: ca + ".nope"}, false,
			[]string{"store.redis.ca_file"}},
		{"timing", redis.Config{Addrs: []string{"s:26379"}, MasterName: "m", TLS: true, ReadTimeout: 200 * time.Millisecond,
			DialTimeout: -time.Second, PoolSize: -1, ReplicaAcks: &acks, ReplicaAckGrace: -time.Second, RetryFor: -time.Second}, true,
			[]string{"store.redis.dial_timeout", "store.redis.pool_size", "store.redis.replica_ack_grace",
				"store.redis.replica_ack_timeout", "store.redis.replica_acks", "store.redis.retry_for"}},
		{"no acks with sentinel is a warning", redis.Config{Addrs: []string{"s:1"}, MasterName: "m", ReplicaAcks: &zero}, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range plugin.Check(tc.cfg, "store.redis", tc.production) {
				if !p.Warning {
					got = append(got, p.Path)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("error paths %q, want %q", got, tc.want)
			}
		})
	}
}

// TestValidateWarnings: clear text with allow_plain and a Sentinel without
// acknowledgements are allowed, with a warning at the setting.
func TestValidateWarnings(t *testing.T) {
	zero := 0
	probs := plugin.Check(redis.Config{Addrs: []string{"s:1"}, MasterName: "m", AllowPlain: true, ReplicaAcks: &zero},
		"store.redis", true)
	var warned []string
	for _, p := range probs {
		if !p.Warning {
			t.Errorf("unexpected error %s", p)
		}
		warned = append(warned, p.Path)
	}
	if !slices.Equal(warned, []string{"store.redis.replica_acks", "store.redis.tls"}) &&
		!slices.Equal(warned, []string{"store.redis.tls", "store.redis.replica_acks"}) {
		t.Fatalf("warnings at %q", warned)
	}
}

// TestOpenRefusesWhatValidateRefuses: Open runs the same validation, in the
// mode it is opened in, before connecting.
func TestOpenRefusesWhatValidateRefuses(t *testing.T) {
	c := redis.DefaultConfig()
	c.Addrs = []string{"127.0.0.1:1"}
	_, err := c.Open(t.Context(), storeDeps(true))
	if err == nil || !strings.Contains(err.Error(), "store.redis.tls: must be true in production") {
		t.Fatalf("Open in production without TLS: %v", err)
	}
	c.ServerName = "r"
	if _, err := redis.Open(t.Context(), *c); err == nil || !strings.Contains(err.Error(), "store.redis.server_name") {
		t.Fatalf("Open with server_name and no TLS: %v", err)
	}
}

func storeDeps(production bool) store.Deps {
	return store.Deps{Clock: time.Now, Production: production}
}

func writeFile(t *testing.T, name string) {
	t.Helper()
	if err := os.WriteFile(name, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
