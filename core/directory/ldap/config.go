// Package ldap is the directory.Directory for OpenLDAP and other RFC-compliant
// LDAP servers.
//
// The bot binds as a service account over LDAPS or StartTLS, looks users up
// with escaped filters, resets passwords with the Password Modify extended
// operation (RFC 3062) so the server's password policy (ppolicy) applies,
// forces a change at next login with pwdReset, unlocks by deleting
// pwdAccountLockedTime and decodes the ppolicy response control into a
// directory.Reason. The service account needs write (not manage) access to
// userPassword, pwdReset, pwdAccountLockedTime and pwdFailureTime: manage
// access, like the rootdn, bypasses ppolicy. It must be able to read
// pwdEndTime and shadowExpire (account expiry): an account an administrator
// locked (pwdAccountLockedTime 000001010000Z), disabled or let expire is
// never reset or unlocked (directory.HeldError). An slapd.conf sketch:
//
//	access to attrs=userPassword
//	  by dn.exact="cn=resetbot,ou=services,dc=example,dc=org" write
//	  by self write
//	  by anonymous auth
//	access to attrs=pwdAccountLockedTime,pwdFailureTime,pwdReset
//	  by dn.exact="cn=resetbot,ou=services,dc=example,dc=org" write
//	  by * read
//
// A Config in YAML:
//
//	url: ldaps://ldap.example.org:636
//	ca_file: /etc/resetbot/ldap-ca.pem
//	bind_dn: cn=resetbot,ou=services,dc=example,dc=org
//	bind_password: "..."            # better from the environment or a file
//	base_dn: ou=people,dc=example,dc=org
//	policy_dn: cn=default,ou=policies,dc=example,dc=org
//	protected_groups:                # quote or list one a line: DNs hold commas
//	  - cn=admins,ou=groups,dc=example,dc=org
//	attributes: {mobile: mobile, disabled: {attr: employeeType, value: disabled}}
//	request_timeout: 10s
//
// OpenLDAP's ppolicy also clears a lockout when the password is reset by
// another identity, so a reset unlocks the account as well.
package ldap

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory/internal/ldapconn"
	"github.com/resetbot/resetbot/core/secret"
)

// Config configures one LDAP directory.
type Config struct {
	// URL is ldaps://host:636 or ldap://host:389 (then StartTLS, or AllowPlain).
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection to TLS before binding.
	StartTLS bool `yaml:"start_tls"`
	// AllowPlain permits ldap:// without StartTLS. The service password and
	// every new password then cross the network in clear: tests only.
	AllowPlain bool `yaml:"allow_plain"`
	// CAFile is a PEM bundle of the CAs to trust; empty uses the system pool.
	CAFile string `yaml:"ca_file"`
	// ServerName is the name to verify in the certificate; empty uses the URL host.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify disables certificate verification. No configuration
	// key reaches it (yaml:"-"): only tests set it from Go, since anyone on
	// the path could then read the new passwords.
	InsecureSkipVerify bool `yaml:"-"`
	// BindDN and BindPassword are the service account's credentials.
	BindDN       string        `yaml:"bind_dn"`
	BindPassword secret.String `yaml:"bind_password"`
	// BaseDN is where users are searched; IDs outside it are refused.
	BaseDN string `yaml:"base_dn"`
	// UserFilter selects user entries; default (objectClass=inetOrgPerson).
	UserFilter string `yaml:"user_filter"`
	// Attributes maps lookup keys and user fields to attribute names.
	Attributes AttrMap `yaml:"attributes"`
	// ProtectedGroups are DNs of groups (groupOfNames member or
	// groupOfUniqueNames uniqueMember; direct members only) whose members the
	// bot never resets or unlocks.
	ProtectedGroups []string `yaml:"protected_groups"`
	// ProtectedFilter, when set, marks the users it matches as protected,
	// e.g. (employeeType=admin).
	ProtectedFilter string `yaml:"protected_filter"`
	// PolicyDN is the default ppolicy entry (slapd's ppolicy_default), read
	// for the minimum age and lockout duration of users without
	// pwdPolicySubentry. Empty: such users have no known policy.
	PolicyDN string `yaml:"policy_dn"`
	// DialTimeout bounds connecting (default 5s); RequestTimeout bounds each
	// request (default 10s).
	DialTimeout    time.Duration `yaml:"dial_timeout"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// PoolSize is the most connections held open at once (default 4).
	PoolSize int `yaml:"pool_size"`
	// Now is the clock (default time.Now).
	Now func() time.Time `yaml:"-"`
}

// AttrMap names the attributes that hold each user field.
type AttrMap struct {
	Login          string `yaml:"login"`           // default uid
	Email          string `yaml:"email"`           // default mail
	Mobile         string `yaml:"mobile"`          // default mobile
	EmployeeNumber string `yaml:"employee_number"` // default employeeNumber
	DisplayName    string `yaml:"display_name"`    // default displayName
	GivenName      string `yaml:"given_name"`      // default givenName
	Surname        string `yaml:"surname"`         // default sn
	// PreferredLanguage holds the user's language (default preferredLanguage).
	PreferredLanguage string `yaml:"preferred_language"`
	// RecoveryEmail holds a personal/recovery address (no default: empty
	// means no account has one). Never the login mailbox.
	RecoveryEmail string `yaml:"recovery_email"`
	// Manager holds the manager's DN, for notices (no default).
	Manager string `yaml:"manager"`
	// Disabled says how a disabled account is marked; empty Attr: never.
	Disabled DisabledAttr `yaml:"disabled"`
}

// DisabledAttr marks disabled accounts: Attr holds Value (case-insensitive),
// or, when Value is empty, Attr is present at all.
type DisabledAttr struct {
	Attr  string `yaml:"attr"`
	Value string `yaml:"value"`
}

// withDefaults returns cfg with defaults filled in.
func (cfg Config) withDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	a := &cfg.Attributes
	def(&a.Login, "uid")
	def(&a.Email, "mail")
	def(&a.Mobile, "mobile")
	def(&a.EmployeeNumber, "employeeNumber")
	def(&a.DisplayName, "displayName")
	def(&a.GivenName, "givenName")
	def(&a.Surname, "sn")
	def(&a.PreferredLanguage, "preferredLanguage")
	def(&cfg.UserFilter, "(objectClass=inetOrgPerson)")
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Validate reports every problem in cfg at once. It refuses ldap:// without
// StartTLS unless AllowPlain is set: the bot sends new passwords.
func (cfg Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("ldap config: "+format, args...)) }
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "":
		bad("url is required")
	case err != nil:
		bad("url %q does not parse", cfg.URL)
	case u.Scheme == "ldaps":
		if cfg.StartTLS {
			bad("start_tls makes no sense with ldaps://")
		}
	case u.Scheme == "ldap":
		if !cfg.StartTLS && !cfg.AllowPlain {
			bad("ldap:// without start_tls would send passwords in clear; use ldaps:// or start_tls: true")
		}
	default:
		bad("url scheme must be ldaps or ldap, not %q", u.Scheme)
	}
	if err == nil && u.Host == "" && cfg.URL != "" {
		bad("url %q has no host", cfg.URL)
	}
	if cfg.BindDN == "" || cfg.BindPassword.Empty() {
		bad("bind_dn and bind_password are required")
	}
	if _, err := ldap.ParseDN(cfg.BaseDN); err != nil || cfg.BaseDN == "" {
		bad("base_dn %q is not a DN", cfg.BaseDN)
	}
	for _, f := range []struct{ name, v string }{{"user_filter", cfg.UserFilter}, {"protected_filter", cfg.ProtectedFilter}} {
		if f.v == "" {
			continue
		}
		if _, err := ldap.CompileFilter(f.v); err != nil {
			bad("%s %q does not compile: %v", f.name, f.v, err)
		}
	}
	for _, g := range cfg.ProtectedGroups {
		dn, err := ldap.ParseDN(g)
		switch {
		case err != nil || g == "":
			bad("protected group %q is not a DN", g)
		case len(dn.RDNs) < 2:
			// A YAML flow list [cn=a,dc=b] splits at the commas.
			bad("protected group %q looks cut short (quote DNs in YAML lists)", g)
		}
	}
	if cfg.CAFile != "" {
		if _, err := ldapconn.LoadCAs(cfg.CAFile); err != nil {
			bad("%v", err)
		}
	}
	if cfg.PoolSize < 0 || cfg.DialTimeout < 0 || cfg.RequestTimeout < 0 {
		bad("pool_size and timeouts must not be negative")
	}
	return errors.Join(errs...)
}

// tlsConfig builds the client TLS configuration (shared with ad).
func (cfg Config) tlsConfig() (*tls.Config, error) {
	return ldapconn.TLSConfig(cfg.URL, cfg.ServerName, cfg.CAFile, cfg.InsecureSkipVerify)
}
