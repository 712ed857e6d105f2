package redis_test

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

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
	var c redis.Config
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Addrs) != 2 || c.MasterName != "mymaster" || c.Password.Reveal() != "pw-from-file" ||
		!c.TLS || c.KeyPrefix != "resetbot:" || c.DialTimeout != time.Second ||
		c.ReadTimeout != 1500*time.Millisecond || c.PoolSize != 20 {
		t.Fatalf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
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
