package ad

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory/internal/ldapconn"
	"github.com/resetbot/resetbot/core/secret"
)

// Config configures an Active Directory backend.
type Config struct {
	// Name is the configured name of this directory, copied to User.Directory.
	Name string `yaml:"name"`
	// URL is ldaps://host[:636], or ldap://host[:389] with StartTLS set.
	// Plain LDAP is refused: AD only accepts unicodePwd over an encrypted
	// connection, and the bind password must not travel in clear either.
	URL      string `yaml:"url"`
	StartTLS bool   `yaml:"start_tls"`
	// CAFile is a PEM bundle of CAs to trust; empty uses the system roots.
	CAFile string `yaml:"ca_file"`
	// ServerName overrides the name checked in the server certificate.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify disables certificate checks. No configuration key
	// reaches it (the YAML decoder skips it): only Go code such as a test
	// can set it, so the production binary needs no test-only check.
	InsecureSkipVerify bool `yaml:"-"`
	// BindDN is the service account's DN or UPN (bot@example.org).
	BindDN       string        `yaml:"bind_dn"`
	BindPassword secret.String `yaml:"bind_password"`
	// BaseDN is where users are searched (the domain or an OU).
	BaseDN string `yaml:"base_dn"`
	// Domain is the UPN suffix (example.org): a login without "@" is also
	// tried as login@Domain.
	Domain string `yaml:"domain"`
	// UserFilter narrows which entries are users, e.g.
	// (memberOf=CN=Staff,OU=Groups,DC=example,DC=org). It is always ANDed
	// with (objectCategory=person)(objectClass=user), so no setting can make
	// a computer or contact account resettable. Default DefaultUserFilter.
	UserFilter string `yaml:"user_filter"`
	// Attributes name the attributes lookups use.
	Attributes AttrMap `yaml:"attributes"`
	// ProtectedGroups are group DNs whose members (directly or through nested
	// groups) are never reset or unlocked. Built-in privileged groups (Domain
	// Admins, Enterprise Admins, Administrators, operators…) and adminCount=1
	// accounts are always protected.
	ProtectedGroups []string `yaml:"protected_groups"`
	// AllowProtected lets the bot reset protected accounts. Default false;
	// meant for a lab, never for production.
	AllowProtected bool `yaml:"allow_protected"`
	// DialTimeout bounds connecting plus the TLS handshake (default 5 s).
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// RequestTimeout bounds each LDAP request (default 10 s).
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// PoolSize is the maximum number of open connections (default 4).
	PoolSize int `yaml:"pool_size"`
}

// AttrMap names the AD attributes behind the lookup keys.
type AttrMap struct {
	// Login is the attribute a login is matched against and User.Login read
	// from (default "sAMAccountName"; userPrincipalName is also matched).
	Login          string `yaml:"login"`
	DisplayName    string `yaml:"display_name"`    // default "displayName"
	GivenName      string `yaml:"given_name"`      // default "givenName"
	Surname        string `yaml:"surname"`         // default "sn"
	Email          string `yaml:"email"`           // default "mail"
	Mobile         string `yaml:"mobile"`          // default "mobile"
	EmployeeNumber string `yaml:"employee_number"` // default "employeeID"
	// RecoveryEmail holds a personal/recovery address (no default: empty
	// means no account has one). Never the login mailbox.
	RecoveryEmail string `yaml:"recovery_email"`
	// Manager holds the manager's DN, for notices (no default).
	Manager string `yaml:"manager"`
}

// Defaults for unset Config fields.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 10 * time.Second
	DefaultPoolSize       = 4
	// DefaultUserFilter is the documented user_filter: person accounts.
	DefaultUserFilter = "(&" + personFilter + ")"
)

// withDefaults returns cfg with unset fields filled in.
func (c Config) withDefaults() Config {
	a := &c.Attributes
	for _, f := range []struct {
		dst *string
		def string
	}{
		{&a.Login, "sAMAccountName"}, {&a.DisplayName, "displayName"}, {&a.GivenName, "givenName"},
		{&a.Surname, "sn"}, {&a.Email, "mail"}, {&a.Mobile, "mobile"}, {&a.EmployeeNumber, "employeeID"},
		{&c.UserFilter, DefaultUserFilter},
	} {
		if *f.dst == "" {
			*f.dst = f.def
		}
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.PoolSize <= 0 {
		c.PoolSize = DefaultPoolSize
	}
	return c
}

// Validate reports every problem in the configuration at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("ad: "+format, a...)) }
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		bad("url is required (ldaps://dc.example.org)")
	case err != nil || u.Host == "":
		bad("url %q is not an LDAP URL", c.URL)
	case u.Scheme == "ldaps" && c.StartTLS:
		bad("start_tls is for ldap:// URLs; %q already uses TLS", c.URL)
	case u.Scheme == "ldap" && !c.StartTLS:
		bad("url %q is plain LDAP: use ldaps:// or set start_tls (AD refuses password writes without TLS)", c.URL)
	case u.Scheme != "ldap" && u.Scheme != "ldaps":
		bad("url scheme %q is not ldaps or ldap", u.Scheme)
	}
	if c.CAFile != "" {
		if _, err := os.ReadFile(c.CAFile); err != nil {
			bad("ca_file: %v", err)
		}
	}
	if c.BindDN == "" {
		bad("bind_dn is required (a least-privilege service account)")
	}
	if c.BindPassword.Empty() {
		bad("bind_password is required")
	}
	if _, err := ldap.ParseDN(c.BaseDN); err != nil || c.BaseDN == "" {
		bad("base_dn %q is not a DN", c.BaseDN)
	}
	for _, g := range c.ProtectedGroups {
		if _, err := ldap.ParseDN(g); err != nil || g == "" {
			bad("protected_groups: %q is not a DN", g)
		}
	}
	if c.UserFilter != "" {
		if _, err := ldap.CompileFilter(c.UserFilter); err != nil {
			bad("user_filter %q does not compile: %v", c.UserFilter, err)
		}
	}
	a := c.Attributes
	for name, v := range map[string]string{"login": a.Login, "display_name": a.DisplayName,
		"given_name": a.GivenName, "surname": a.Surname, "email": c.Attributes.Email,
		"mobile": c.Attributes.Mobile, "employee_number": c.Attributes.EmployeeNumber,
		"recovery_email": c.Attributes.RecoveryEmail, "manager": c.Attributes.Manager} {
		if v != "" && !validAttr(v) {
			bad("attributes.%s %q is not an attribute name", name, v)
		}
	}
	if c.DialTimeout < 0 || c.RequestTimeout < 0 || c.PoolSize < 0 {
		bad("timeouts and pool_size must not be negative")
	}
	return errors.Join(errs...)
}

// validAttr accepts an LDAP attribute description (letters, digits, hyphen),
// so a configured name can never smuggle filter syntax.
func validAttr(s string) bool {
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || (i > 0 && (r >= '0' && r <= '9' || r == '-'))
		if !ok {
			return false
		}
	}
	return s != ""
}

// tlsConfig builds the client TLS configuration with the shared transport's
// rules: TLS 1.2 or later, the configured CAs (or the system roots) and the
// server name.
func (c Config) tlsConfig() (*tls.Config, error) {
	tc, err := ldapconn.TLSConfig(c.URL, c.ServerName, c.CAFile, c.InsecureSkipVerify)
	if err != nil {
		return nil, fmt.Errorf("ad: %w", err)
	}
	return tc, nil
}
