package ldapconn

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
)

// Settings are what the ldap and ad directories share: connection, TLS,
// bind, search, attribute names, protected groups and the pool. Each
// backend's configuration embeds them inline, so the YAML keys of a
// directories[i].ldap and a directories[i].ad block are declared once, and
// validated once (Validate).
type Settings struct {
	// URL is ldaps://host:636 or ldap://host:389 (then StartTLS is needed).
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection to TLS before binding.
	StartTLS bool `yaml:"start_tls"`
	// AllowPlain accepts ldap:// without StartTLS (never for production
	// data): the service password and every new password then cross the
	// network in clear. Type ldap only: AD refuses password writes without
	// TLS, so allow_plain on an ad block is an error.
	AllowPlain bool `yaml:"allow_plain"`
	// CAFile is a PEM bundle of the CAs to trust; empty uses the system pool.
	CAFile string `yaml:"ca_file"`
	// ServerName is the name to verify in the certificate; empty uses the URL host.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify disables certificate verification. No configuration
	// key reaches it (yaml:"-"): only Go code such as a test can set it,
	// since anyone on the path could then read the new passwords.
	InsecureSkipVerify bool `yaml:"-"`
	// BindDN and BindPassword are the service account's credentials (for AD
	// the DN or the UPN, bot@corp.example).
	BindDN       string        `yaml:"bind_dn"`
	BindPassword secret.String `yaml:"bind_password"`
	// BaseDN is where users are searched; IDs outside it are refused.
	BaseDN string `yaml:"base_dn"`
	// UserFilter restricts which entries are users, e.g.
	// (objectClass=inetOrgPerson). For AD it is ANDed with
	// (objectCategory=person)(objectClass=user).
	UserFilter string     `yaml:"user_filter"`
	Attributes Attributes `yaml:"attributes"`
	// ProtectedGroups are group DNs whose members are never reset or
	// unlocked by the bot.
	ProtectedGroups []string `yaml:"protected_groups"`
	// DialTimeout bounds connecting plus the TLS handshake (default 5s).
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// RequestTimeout bounds each request (default 10s).
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// PoolSize is the most connections held open at once (default 4).
	PoolSize int `yaml:"pool_size"`
}

// Attributes map user fields to directory attribute names. Each backend's
// constructor gives its own defaults.
type Attributes struct {
	Login          string `yaml:"login"`
	Email          string `yaml:"email"`
	Mobile         string `yaml:"mobile"`
	EmployeeNumber string `yaml:"employee_number"`
	DisplayName    string `yaml:"display_name"`
	GivenName      string `yaml:"given_name"`
	Surname        string `yaml:"surname"`
	// RecoveryEmail is the attribute holding a personal/recovery address,
	// the only address email codes go to. No default (empty: no account has
	// one); never the login mailbox (configuration refuses mail and
	// userPrincipalName).
	RecoveryEmail string `yaml:"recovery_email"`
	// Manager is the attribute holding the manager's DN (e.g. manager), for
	// notices when factors.policy.notify_manager is on. No default.
	Manager string `yaml:"manager"`
}

// Defaults returns the shared defaults with the backend's user filter and
// attribute names.
func Defaults(filter string, attrs Attributes) Settings {
	return Settings{UserFilter: filter, Attributes: attrs,
		DialTimeout: 5 * time.Second, RequestTimeout: 10 * time.Second, PoolSize: 4}
}

// Fill sets the zero fields of s that have a default to the values of def,
// for a configuration built in Go rather than decoded over the defaults.
func (s *Settings) Fill(def Settings) {
	str := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	a, d := &s.Attributes, def.Attributes
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&a.Login, d.Login}, {&a.Email, d.Email}, {&a.Mobile, d.Mobile}, {&a.EmployeeNumber, d.EmployeeNumber},
		{&a.DisplayName, d.DisplayName}, {&a.GivenName, d.GivenName}, {&a.Surname, d.Surname},
		{&s.UserFilter, def.UserFilter},
	} {
		str(f.dst, f.v)
	}
	if s.DialTimeout <= 0 {
		s.DialTimeout = def.DialTimeout
	}
	if s.RequestTimeout <= 0 {
		s.RequestTimeout = def.RequestTimeout
	}
	if s.PoolSize <= 0 {
		s.PoolSize = def.PoolSize
	}
}

// TLS builds the client TLS configuration for s.
func (s Settings) TLS() (*tls.Config, error) {
	return TLSConfig(s.URL, s.ServerName, s.CAFile, s.InsecureSkipVerify)
}

// Validate reports every problem with the shared settings of the block at
// p. ad selects Active Directory's rules: TLS in every mode, no allow_plain.
func (s *Settings) Validate(c plugin.Checker, p string, ad bool) {
	s.validateURL(c, p, ad)
	if s.BindDN == "" {
		c.Errorf(p+".bind_dn", "is required")
	}
	if s.BindPassword.Empty() {
		c.Errorf(p+".bind_password", "is required (prefer an environment variable or a _FILE)")
	}
	if s.BaseDN == "" {
		c.Errorf(p+".base_dn", "is required")
	} else if _, err := ldap.ParseDN(s.BaseDN); err != nil {
		c.Errorf(p+".base_dn", "is not a DN (attribute=value pairs separated by commas)")
	}
	Filter(c, p+".user_filter", s.UserFilter)
	if s.Attributes.Login == "" {
		c.Errorf(p+".attributes.login", "is required")
	}
	s.Attributes.validate(c, p+".attributes")
	c.FileExists(p+".ca_file", s.CAFile)
	if s.CAFile != "" {
		if pem, err := os.ReadFile(s.CAFile); err == nil && !x509.NewCertPool().AppendCertsFromPEM(pem) {
			c.Errorf(p+".ca_file", "%q holds no PEM certificate", s.CAFile)
		}
	}
	protectedGroups(c, p+".protected_groups", s.ProtectedGroups)
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"dial_timeout", s.DialTimeout}, {"request_timeout", s.RequestTimeout}} {
		if d.v <= 0 {
			c.Errorf(p+"."+d.key, "must be a positive duration such as 30s or 15m")
		}
	}
	if s.DialTimeout > 30*time.Second {
		c.Warnf(p+".dial_timeout", "is over 30s; users wait that long when the server is down")
	}
	if s.PoolSize < 1 || s.PoolSize > 100 {
		c.Errorf(p+".pool_size", "must be between 1 and 100")
	}
}

func (s *Settings) validateURL(c plugin.Checker, p string, ad bool) {
	if ad && s.AllowPlain {
		c.Errorf(p+".allow_plain", "is not supported for type ad: Active Directory refuses password changes without TLS; use ldaps:// or start_tls: true")
	}
	u, err := url.Parse(s.URL)
	switch {
	case s.URL == "":
		c.Errorf(p+".url", "is required (ldaps://host:636 or ldap://host:389 with start_tls)")
	case err != nil || u.Host == "":
		// The parse error is not shown: it repeats the URL, which may carry credentials.
		c.Errorf(p+".url", "is not a valid URL")
	case u.User != nil:
		c.Errorf(p+".url", "must not contain credentials; use bind_dn and bind_password")
	case u.Scheme == "ldaps":
		if s.StartTLS {
			c.Errorf(p+".start_tls", "must be false with ldaps:// (TLS is already on)")
		}
	case u.Scheme == "ldap":
		if !s.StartTLS {
			plainLDAP(c, p, s.AllowPlain, ad)
		}
	default:
		c.Errorf(p+".url", "scheme must be ldaps or ldap")
	}
}

// plainLDAP judges ldap:// without StartTLS. Active Directory refuses
// password writes without TLS, so for type ad it is refused in every mode.
// For ldap, allow_plain lets it through with a warning; without it the
// transport would refuse to connect (ErrPlain), so it is an error in every
// mode, as Open would fail.
func plainLDAP(c plugin.Checker, p string, allowPlain, ad bool) {
	switch {
	case ad:
		c.Errorf(p+".url", "ldap:// needs start_tls: true (or ldaps://); Active Directory refuses password changes without TLS")
	case !allowPlain && c.Production():
		c.Errorf(p+".url", "ldap:// needs start_tls: true (or ldaps://) in production; passwords would cross the network in clear text")
	case !allowPlain:
		c.Errorf(p+".url", "ldap:// needs start_tls: true (or ldaps://), or allow_plain: true for a demo; passwords would cross the network in clear text")
	default:
		c.Warnf(p+".allow_plain", "TLS is off: passwords would cross the network in clear text")
	}
}

// Filter refuses a filter the backends could not compile, so configuration
// validation catches what Open would refuse. Empty is allowed.
func Filter(c plugin.Checker, p, f string) {
	if f == "" {
		return
	}
	if _, err := ldap.CompileFilter(f); err != nil {
		c.Errorf(p, "is not an LDAP filter, e.g. (objectClass=inetOrgPerson)")
	}
}

// validate refuses a mapped name that is not an attribute description
// (letters, digits, hyphen): it is written into search filters.
func (a Attributes) validate(c plugin.Checker, p string) {
	for _, f := range []struct{ key, v string }{
		{"login", a.Login}, {"email", a.Email}, {"mobile", a.Mobile}, {"employee_number", a.EmployeeNumber},
		{"display_name", a.DisplayName}, {"given_name", a.GivenName}, {"surname", a.Surname},
		{"recovery_email", a.RecoveryEmail}, {"manager", a.Manager},
	} {
		if f.v != "" && !AttrName(f.v) {
			c.Errorf(p+"."+f.key, "%q is not an attribute name (letters, digits, hyphen)", f.v)
		}
	}
}

// AttrName reports whether s is an attribute description (letters, digits,
// hyphen, starting with a letter), so a configured name can never smuggle
// filter syntax.
func AttrName(s string) bool {
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || (i > 0 && (r >= '0' && r <= '9' || r == '-'))
		if !ok {
			return false
		}
	}
	return s != ""
}

// protectedGroups checks that each entry is a whole group DN. An unquoted DN
// in a YAML flow list ([cn=admins,ou=groups,dc=corp]) is split at its
// commas into one-RDN pieces; the bot would then protect nobody, so a piece
// with a single RDN is an error that shows the quoted form.
func protectedGroups(c plugin.Checker, p string, groups []string) {
	for i, g := range groups {
		rdns := splitDN(g)
		for _, r := range rdns {
			if !strings.Contains(r, "=") {
				c.Errorf(fmt.Sprintf("%s[%d]", p, i), "%q is not a DN (attribute=value pairs separated by commas)", g)
				return
			}
		}
		if len(rdns) < 2 {
			c.Errorf(p, "%q is not a whole group DN: an unquoted DN in a YAML list is split at its commas; "+
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

// Match checks the match setting of a fan-out target's block: the account
// field looked up in that directory.
func Match(c plugin.Checker, p, m string) {
	switch m {
	case "login", "email", "employee_number":
	default:
		c.Errorf(p, "must be login, email or employee_number")
	}
}

// Check validates cfg as configuration validation does, for a
// configuration built in Go (tests, embedding) and opened without it, and
// returns its errors joined; warnings are dropped. name prefixes each
// path. production applies production mode's rules.
func Check(cfg plugin.Config, name string, production bool) error {
	return plugin.Check(cfg, name, production).Err()
}
