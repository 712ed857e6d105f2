package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/secret"
)

// DirectoryConfig is one user directory. Users are routed to a directory by the
// domain of their login or email (Domains).
type DirectoryConfig struct {
	// Name identifies the directory in logs and audit records.
	Name string `yaml:"name"`
	// Type is memory (demo only), ldap (OpenLDAP and friends) or ad.
	Type string `yaml:"type"`
	// Domains routes users to this directory, e.g. [corp.example].
	Domains []string `yaml:"domains"`
	// LDAP is the block for type ldap; nil otherwise.
	LDAP *LDAPConfig `yaml:"ldap,omitempty"`
	// AD is the block for type ad; nil otherwise.
	AD *ADConfig `yaml:"ad,omitempty"`
}

// ConnConfig holds what LDAP and AD share: connection, bind and search.
type ConnConfig struct {
	// URL is ldaps://host:636 or ldap://host:389 (then StartTLS is needed).
	URL      string `yaml:"url"`
	StartTLS bool   `yaml:"start_tls"`
	// AllowPlain accepts ldap:// without StartTLS in demo mode (never for
	// production data). Type ldap only: AD refuses password writes without
	// TLS, so allow_plain on an ad block is an error.
	AllowPlain   bool          `yaml:"allow_plain"`
	CAFile       string        `yaml:"ca_file"`
	ServerName   string        `yaml:"server_name"`
	BindDN       string        `yaml:"bind_dn"`
	BindPassword secret.String `yaml:"bind_password"`
	BaseDN       string        `yaml:"base_dn"`
	// UserFilter restricts which entries are users, e.g. (objectClass=inetOrgPerson).
	// For AD it is ANDed with (objectCategory=person)(objectClass=user).
	UserFilter string           `yaml:"user_filter"`
	Attributes AttributesConfig `yaml:"attributes"`
	// ProtectedGroups are group DNs whose members are never reset by the bot.
	ProtectedGroups []string      `yaml:"protected_groups"`
	DialTimeout     time.Duration `yaml:"dial_timeout"`
	RequestTimeout  time.Duration `yaml:"request_timeout"`
	PoolSize        int           `yaml:"pool_size"`
}

// AttributesConfig maps user fields to directory attribute names.
type AttributesConfig struct {
	Login          string `yaml:"login"`
	Email          string `yaml:"email"`
	Mobile         string `yaml:"mobile"`
	EmployeeNumber string `yaml:"employee_number"`
	DisplayName    string `yaml:"display_name"`
	GivenName      string `yaml:"given_name"`
	Surname        string `yaml:"surname"`
	// RecoveryEmail is the attribute holding a personal/recovery address,
	// the only address email codes go to. No default; never the login
	// mailbox (check-config refuses mail and userPrincipalName).
	RecoveryEmail string `yaml:"recovery_email"`
	// Manager is the attribute holding the manager's DN (e.g. manager), for
	// notices when factors.policy.notify_manager is on.
	Manager string `yaml:"manager"`
}

// LDAPConfig configures a generic LDAP directory (OpenLDAP with ppolicy).
type LDAPConfig struct {
	ConnConfig `yaml:",inline"`
	// DisabledAttribute and DisabledValue mark disabled accounts, e.g.
	// pwdAccountLockedTime = 000001010000Z. Empty: no such marker.
	DisabledAttribute string `yaml:"disabled_attribute"`
	DisabledValue     string `yaml:"disabled_value"`
	// PolicyDN is the default ppolicy entry, read for the minimum password
	// age of accounts without their own pwdPolicySubentry (pre-flight).
	PolicyDN string `yaml:"policy_dn"`
	// ProtectedFilter marks the users it matches as protected (never reset
	// or unlocked), e.g. (employeeType=admin). Empty: none.
	ProtectedFilter string `yaml:"protected_filter"`
}

// ADConfig configures Active Directory (or Samba AD).
type ADConfig struct {
	ConnConfig `yaml:",inline"`
	// Domain is the DNS domain of the AD forest (corp.example), used for UPNs.
	Domain string `yaml:"domain"`
	// AllowProtected lets the bot reset adminCount=1 accounts. Keep false.
	AllowProtected bool `yaml:"allow_protected"`
}

// fillDirectoryDefaults sets per-type defaults on a directory's zero fields.
func fillDirectoryDefaults(d *DirectoryConfig) {
	if d.LDAP != nil {
		fillConnDefaults(&d.LDAP.ConnConfig, "(objectClass=inetOrgPerson)", AttributesConfig{
			Login: "uid", Email: "mail", Mobile: "mobile", EmployeeNumber: "employeeNumber",
			DisplayName: "displayName", GivenName: "givenName", Surname: "sn",
		})
	}
	if d.AD != nil {
		fillConnDefaults(&d.AD.ConnConfig, "(&(objectCategory=person)(objectClass=user))", AttributesConfig{
			Login: "sAMAccountName", Email: "mail", Mobile: "mobile", EmployeeNumber: "employeeID",
			DisplayName: "displayName", GivenName: "givenName", Surname: "sn",
		})
	}
}

func fillConnDefaults(c *ConnConfig, filter string, attrs AttributesConfig) {
	if c.UserFilter == "" {
		c.UserFilter = filter
	}
	a := &c.Attributes
	for _, f := range []struct {
		dst *string
		def string
	}{
		{&a.Login, attrs.Login}, {&a.Email, attrs.Email}, {&a.Mobile, attrs.Mobile},
		{&a.EmployeeNumber, attrs.EmployeeNumber}, {&a.DisplayName, attrs.DisplayName},
		{&a.GivenName, attrs.GivenName}, {&a.Surname, attrs.Surname},
	} {
		if *f.dst == "" {
			*f.dst = f.def
		}
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.PoolSize == 0 {
		c.PoolSize = 4
	}
}

func (v *validator) directories(ds []DirectoryConfig) {
	if len(ds) == 0 {
		v.errorf("directories", "needs at least one directory")
	}
	names := map[string]int{}
	domains := map[string]int{}
	for i := range ds {
		d := &ds[i]
		p := index("directories", i)
		if d.Name == "" {
			v.errorf(p+".name", "is required")
		} else if j, dup := names[d.Name]; dup {
			v.errorf(p+".name", "%q is already used by directories[%d]", d.Name, j)
		} else {
			names[d.Name] = i
		}
		if len(d.Domains) == 0 && len(ds) > 1 {
			v.errorf(p+".domains", "is required when there is more than one directory")
		}
		for k, dom := range d.Domains {
			dp := index(p+".domains", k)
			dom = strings.ToLower(dom)
			if dom == "" || strings.ContainsAny(dom, "@ /") {
				v.errorf(dp, "must be a domain name such as corp.example")
			} else if j, dup := domains[dom]; dup {
				v.errorf(dp, "domain %q is already routed to directories[%d]", dom, j)
			} else {
				domains[dom] = i
			}
		}
		v.directoryType(p, d)
	}
}

func (v *validator) directoryType(p string, d *DirectoryConfig) {
	switch d.Type {
	case "":
		v.errorf(p+".type", "is required (ldap or ad)")
	case "memory":
		if v.production() {
			v.errorf(p+".type", "memory is the demo directory and can never be selected by a production config; use ldap or ad")
		}
	case "ldap":
		if d.LDAP == nil {
			v.errorf(p+".ldap", "is required when type is ldap")
			break
		}
		v.ldapBlock(p+".ldap", d.LDAP)
	case "ad":
		if d.AD == nil {
			v.errorf(p+".ad", "is required when type is ad")
			break
		}
		v.conn(p+".ad", &d.AD.ConnConfig, true)
		if d.AD.Domain == "" {
			v.errorf(p+".ad.domain", "is required (the AD DNS domain, e.g. corp.example)")
		}
		if d.AD.AllowProtected {
			v.warnf(p+".ad.allow_protected", "protected (adminCount=1) accounts can be reset by the bot")
		}
	default:
		v.errorf(p+".type", "must be one of memory, ldap, ad")
	}
	if d.LDAP != nil && d.Type != "ldap" {
		v.errorf(p+".ldap", "is only allowed when type is ldap")
	}
	if d.AD != nil && d.Type != "ad" {
		v.errorf(p+".ad", "is only allowed when type is ad")
	}
}

// ldapBlock checks an ldap block, of a directory or of a fanout target.
func (v *validator) ldapBlock(p string, l *LDAPConfig) {
	v.conn(p, &l.ConnConfig, false)
	v.ldapFilter(p+".protected_filter", l.ProtectedFilter)
	if (l.DisabledAttribute == "") != (l.DisabledValue == "") {
		v.errorf(p+".disabled_value", "disabled_attribute and disabled_value must be set together")
	}
}

func (v *validator) conn(p string, c *ConnConfig, ad bool) {
	if ad && c.AllowPlain {
		v.errorf(p+".allow_plain", "is not supported for type ad: Active Directory refuses password changes without TLS; use ldaps:// or start_tls: true")
	}
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		v.errorf(p+".url", "is required (ldaps://host:636 or ldap://host:389 with start_tls)")
	case err != nil || u.Host == "":
		// The parse error is not shown: it repeats the URL, which may carry credentials.
		v.errorf(p+".url", "is not a valid URL")
	case u.User != nil:
		v.errorf(p+".url", "must not contain credentials; use bind_dn and bind_password")
	case u.Scheme == "ldaps":
		if c.StartTLS {
			v.errorf(p+".start_tls", "must be false with ldaps:// (TLS is already on)")
		}
	case u.Scheme == "ldap":
		if !c.StartTLS {
			v.plainLDAP(p, c.AllowPlain, ad)
		}
	default:
		v.errorf(p+".url", "scheme must be ldaps or ldap")
	}
	if c.BindDN == "" {
		v.errorf(p+".bind_dn", "is required")
	}
	if c.BindPassword.Empty() {
		v.errorf(p+".bind_password", "is required (prefer an environment variable or a _FILE)")
	}
	if c.BaseDN == "" {
		v.errorf(p+".base_dn", "is required")
	}
	v.ldapFilter(p+".user_filter", c.UserFilter)
	if c.Attributes.Login == "" {
		v.errorf(p+".attributes.login", "is required")
	}
	v.attributeNames(p+".attributes", c.Attributes)
	v.fileExists(p+".ca_file", c.CAFile)
	v.protectedGroups(p+".protected_groups", c.ProtectedGroups)
	v.positive(p+".dial_timeout", c.DialTimeout)
	v.positive(p+".request_timeout", c.RequestTimeout)
	if c.DialTimeout > 30*time.Second {
		v.warnf(p+".dial_timeout", "is over 30s; users wait that long when the server is down")
	}
	if c.PoolSize < 1 || c.PoolSize > 100 {
		v.errorf(p+".pool_size", "must be between 1 and 100")
	}
}

// plainLDAP judges ldap:// without StartTLS. Active Directory refuses
// password writes without TLS, so for type ad it is refused in every mode,
// as the AD backend does; for ldap, allow_plain accepts it outside
// production.
func (v *validator) plainLDAP(p string, allowPlain, ad bool) {
	switch {
	case ad:
		v.errorf(p+".url", "ldap:// needs start_tls: true (or ldaps://); Active Directory refuses password changes without TLS")
	case !allowPlain && v.production():
		v.errorf(p+".url", "ldap:// needs start_tls: true (or ldaps://) in production; passwords would cross the network in clear text")
	default:
		v.warnf(p+".allow_plain", "TLS is off: passwords would cross the network in clear text")
	}
}

// ldapFilter refuses a filter the directory backends could not compile, so
// check-config catches what Open would refuse.
func (v *validator) ldapFilter(p, f string) {
	if f == "" {
		return
	}
	if _, err := ldap.CompileFilter(f); err != nil {
		v.errorf(p, "is not an LDAP filter, e.g. (objectClass=inetOrgPerson)")
	}
}

// attributeNames refuses a mapped name that is not an attribute description
// (letters, digits, hyphen): it is written into search filters.
func (v *validator) attributeNames(p string, a AttributesConfig) {
	for _, f := range []struct{ key, v string }{
		{"login", a.Login}, {"email", a.Email}, {"mobile", a.Mobile}, {"employee_number", a.EmployeeNumber},
		{"display_name", a.DisplayName}, {"given_name", a.GivenName}, {"surname", a.Surname},
		{"recovery_email", a.RecoveryEmail}, {"manager", a.Manager},
	} {
		if f.v != "" && !attrName(f.v) {
			v.errorf(p+"."+f.key, "%q is not an attribute name (letters, digits, hyphen)", f.v)
		}
	}
}

func attrName(s string) bool {
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || (i > 0 && (r >= '0' && r <= '9' || r == '-'))
		if !ok {
			return false
		}
	}
	return s != ""
}

func index(p string, i int) string { return fmt.Sprintf("%s[%d]", p, i) }

// attributes returns the directory's attribute map; nil for the memory type.
func (d DirectoryConfig) attributes() *AttributesConfig {
	switch {
	case d.LDAP != nil:
		return &d.LDAP.Attributes
	case d.AD != nil:
		return &d.AD.Attributes
	}
	return nil
}

// protectedGroups checks that each entry is a whole group DN. An unquoted DN
// in a YAML flow list ([cn=admins,ou=groups,dc=corp]) is split at its
// commas into one-RDN pieces; the bot would then protect nobody, so a piece
// with a single RDN is an error that shows the quoted form.
func (v *validator) protectedGroups(p string, groups []string) {
	for i, g := range groups {
		rdns := splitDN(g)
		for _, r := range rdns {
			if !strings.Contains(r, "=") {
				v.errorf(index(p, i), "%q is not a DN (attribute=value pairs separated by commas)", g)
				return
			}
		}
		if len(rdns) < 2 {
			v.errorf(p, "%q is not a whole group DN: an unquoted DN in a YAML list is split at its commas; "+
				`quote each DN: protected_groups: ["cn=admins,ou=groups,dc=corp,dc=example"]`, g)
			return
		}
	}
}

// splitDN splits a DN at the commas that are not escaped with a backslash.
func splitDN(dn string) []string {
	var parts []string
	start, esc := 0, false
	for i := 0; i < len(dn); i++ {
		switch {
		case esc:
			esc = false
		case dn[i] == '\\':
			esc = true
		case dn[i] == ',':
			parts = append(parts, strings.TrimSpace(dn[start:i]))
			start = i + 1
		}
	}
	return append(parts, strings.TrimSpace(dn[start:]))
}
