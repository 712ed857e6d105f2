package ldap_test

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/directory/ldap"
)

// TestConfigYAML decodes the example of the package documentation.
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
attributes: {mobile: telephoneNumber, disabled: {attr: employeeType, value: disabled}}
request_timeout: 10s
`
	var cfg ldap.Config
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.BindPassword.Reveal() != "s3cret-Bot" || cfg.RequestTimeout != 10*time.Second ||
		cfg.Attributes.Mobile != "telephoneNumber" || cfg.Attributes.Disabled.Value != "disabled" ||
		len(cfg.ProtectedGroups) != 1 {
		t.Fatalf("decoded %+v", cfg)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "s3cret-Bot") {
		t.Fatalf("marshalled config leaks the bind password:\n%s", out)
	}
}
