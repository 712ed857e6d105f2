package ad

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/directory/internal/ldapconn"
	"github.com/resetbot/resetbot/core/secret"
)

// check runs the one validator (Config.Validate) as Open does.
func (c Config) check() error { return ldapconn.Check(&c, "ad", true) }

func validConfig() Config {
	return Config{Settings: Settings{URL: "ldaps://dc1.example.org", BindDN: "bot@example.org",
		BindPassword: secret.New("pw"), BaseDN: "DC=example,DC=org"}, Domain: "example.org"}.withDefaults()
}

func TestValidate(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // "" = valid
	}{
		{"ldaps", func(*Config) {}, ""},
		{"starttls", func(c *Config) { c.URL, c.StartTLS = "ldap://dc1:389", true }, ""},
		{"plain ldap", func(c *Config) { c.URL = "ldap://dc1" }, "refuses password changes without TLS"},
		{"allow_plain", func(c *Config) { c.URL, c.StartTLS, c.AllowPlain = "ldap://dc1", true, true }, "ad.allow_plain: is not supported"},
		{"starttls on ldaps", func(c *Config) { c.StartTLS = true }, "start_tls"},
		{"no url", func(c *Config) { c.URL = "" }, "ad.url: is required"},
		{"bad scheme", func(c *Config) { c.URL = "http://dc1" }, "scheme"},
		{"no domain", func(c *Config) { c.Domain = "" }, "ad.domain: is required"},
		{"missing ca", func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, "ca_file"},
		{"ca not pem", func(c *Config) { c.CAFile = ca }, "holds no PEM certificate"},
		{"no bind dn", func(c *Config) { c.BindDN = "" }, "bind_dn"},
		{"no password", func(c *Config) { c.BindPassword = secret.String{} }, "bind_password"},
		{"bad base", func(c *Config) { c.BaseDN = "not a dn" }, "base_dn"},
		{"bad group", func(c *Config) { c.ProtectedGroups = []string{"junk"} }, "protected_groups"},
		{"attribute injection", func(c *Config) { c.Attributes.Email = "mail)(cn=*" }, "attributes.email"},
		{"pool", func(c *Config) { c.PoolSize = 101 }, "pool_size: must be between 1 and 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c)
			err := c.check()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
	// Every problem is reported at once.
	err := Config{}.check()
	for _, w := range []string{"url", "bind_dn", "bind_password", "base_dn"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate(empty) = %v, missing %q", err, w)
		}
	}
	// The bind password never shows.
	c := validConfig()
	c.URL = ""
	c.BindPassword = secret.New("Sup3r-Secret")
	if err := c.check(); strings.Contains(err.Error(), "Sup3r-Secret") {
		t.Error("Validate leaks the bind password")
	}
}
