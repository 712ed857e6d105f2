package ldap_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/ldap"
)

// TestConfigYAML decodes the example of the package documentation over the
// registry entry's defaults, as core/config does, and opens it.
func TestConfigYAML(t *testing.T) {
	const doc = `
url: ldaps://ldap.example.org:636
ca_file: ""
bind_dn: cn=resetbot,ou=services,dc=example,dc=org
bind_password: "s3cret-Bot"
base_dn: ou=people,dc=example,dc=org
policy_dn: cn=default,ou=policies,dc=example,dc=org
protected_groups:
  - cn=admins,ou=groups,dc=example,dc=org
attributes: {mobile: telephoneNumber}
disabled_attribute: employeeType
disabled_value: disabled
request_timeout: 10s
`
	cfg := ldap.NewConfig().(*ldap.Config)
	if err := yaml.Unmarshal([]byte(doc), cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.BindPassword.Reveal() != "s3cret-Bot" || cfg.RequestTimeout != 10*time.Second ||
		cfg.Attributes.Mobile != "telephoneNumber" || cfg.Attributes.Login != "uid" || cfg.DisabledValue != "disabled" ||
		cfg.PoolSize != 4 || len(cfg.ProtectedGroups) != 1 {
		t.Fatalf("decoded %+v", cfg)
	}
	d, err := cfg.Open(context.Background(), directory.Deps{Name: "corp"})
	if err != nil {
		t.Fatal(err)
	}
	d.(directory.Closer).Close()
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "s3cret-Bot") {
		t.Fatalf("marshalled config leaks the bind password:\n%s", out)
	}
}
