package ad

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/secret"
)

func validConfig() Config {
	return Config{URL: "ldaps://dc1.example.org", BindDN: "bot@example.org",
		BindPassword: secret.New("pw"), BaseDN: "DC=example,DC=org"}
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
		{"ca file", func(c *Config) { c.CAFile = ca }, ""},
		{"plain ldap", func(c *Config) { c.URL = "ldap://dc1" }, "plain LDAP"},
		{"starttls on ldaps", func(c *Config) { c.StartTLS = true }, "start_tls"},
		{"no url", func(c *Config) { c.URL = "" }, "url is required"},
		{"bad scheme", func(c *Config) { c.URL = "http://dc1" }, "scheme"},
		{"missing ca", func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, "ca_file"},
		{"no bind dn", func(c *Config) { c.BindDN = "" }, "bind_dn"},
		{"no password", func(c *Config) { c.BindPassword = secret.String{} }, "bind_password"},
		{"bad base", func(c *Config) { c.BaseDN = "not a dn" }, "base_dn"},
		{"bad group", func(c *Config) { c.ProtectedGroups = []string{"junk"} }, "protected_groups"},
		{"attribute injection", func(c *Config) { c.Attributes.Email = "mail)(cn=*" }, "attributes.email"},
		{"negative", func(c *Config) { c.PoolSize = -1 }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c)
			err := c.Validate()
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
	err := Config{}.Validate()
	for _, w := range []string{"url", "bind_dn", "bind_password", "base_dn"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate(empty) = %v, missing %q", err, w)
		}
	}
	// The bind password never shows.
	c := validConfig()
	c.URL = ""
	c.BindPassword = secret.New("Sup3r-Secret")
	if err := c.Validate(); strings.Contains(err.Error(), "Sup3r-Secret") {
		t.Error("Validate leaks the bind password")
	}
}
