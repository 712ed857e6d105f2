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
// A Config in YAML (a directories[i].ldap block):
//
//	url: ldaps://ldap.example.org:636
//	ca_file: /etc/resetbot/ldap-ca.pem
//	bind_dn: cn=resetbot,ou=services,dc=example,dc=org
//	bind_password: "..."            # better from the environment or a file
//	base_dn: ou=people,dc=example,dc=org
//	policy_dn: cn=default,ou=policies,dc=example,dc=org
//	protected_groups:                # quote or list one a line: DNs hold commas
//	  - cn=admins,ou=groups,dc=example,dc=org
//	attributes: {mobile: mobile}
//	disabled_attribute: employeeType
//	disabled_value: disabled
//	request_timeout: 10s
//
// OpenLDAP's ppolicy also clears a lockout when the password is reset by
// another identity, so a reset unlocks the account as well.
package ldap

import (
	"context"
	"crypto/tls"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/internal/ldapconn"
	"github.com/resetbot/resetbot/core/plugin"
)

// Settings are the connection, bind, search, attribute and pool settings
// the ldap and ad directories share (one declaration, one validator).
type Settings = ldapconn.Settings

// AttrMap names the attributes that hold each user field.
type AttrMap = ldapconn.Attributes

// Config configures one LDAP directory: the directories[i].ldap block, and
// the ldap block of a fan-out target (FanoutConfig). Its YAML keys are
// Settings' plus the ones below.
type Config struct {
	Settings `yaml:",inline"`
	// DisabledAttribute and DisabledValue mark disabled accounts, e.g.
	// pwdAccountLockedTime = 000001010000Z: the attribute holds the value
	// (case-insensitive) or, when DisabledValue is empty (Go only; the
	// configuration sets both), is present at all. Empty: no such marker.
	DisabledAttribute string `yaml:"disabled_attribute"`
	DisabledValue     string `yaml:"disabled_value"`
	// PolicyDN is the default ppolicy entry (slapd's ppolicy_default), read
	// for the minimum age and lockout duration of users without
	// pwdPolicySubentry. Empty: such users have no known policy.
	PolicyDN string `yaml:"policy_dn"`
	// ProtectedFilter, when set, marks the users it matches as protected
	// (never reset or unlocked), e.g. (employeeType=admin).
	ProtectedFilter string `yaml:"protected_filter"`
	// PreferredLanguage is the attribute holding the user's language
	// (default preferredLanguage). No configuration key reaches it yet.
	PreferredLanguage string `yaml:"-"`
	// Now is the clock (default time.Now; Open sets the deps' clock).
	Now func() time.Time `yaml:"-"`
}

var (
	_ plugin.Config    = (*Config)(nil)
	_ directory.Opener = (*Config)(nil)
)

// defaultSettings are the OpenLDAP defaults (inetOrgPerson).
var defaultSettings = ldapconn.Defaults("(objectClass=inetOrgPerson)", ldapconn.Attributes{
	Login: "uid", Email: "mail", Mobile: "mobile", EmployeeNumber: "employeeNumber",
	DisplayName: "displayName", GivenName: "givenName", Surname: "sn",
})

// NewConfig returns a Config with its defaults: the registry entry of type
// ldap, over which the directories[i].ldap block is decoded.
func NewConfig() plugin.Config {
	return &Config{Settings: defaultSettings, PreferredLanguage: "preferredLanguage"}
}

// withDefaults returns cfg with the zero fields that have a default filled
// in (for a Config built in Go).
func (cfg Config) withDefaults() Config {
	cfg.Settings.Fill(defaultSettings)
	if cfg.PreferredLanguage == "" {
		cfg.PreferredLanguage = "preferredLanguage"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Validate reports every problem with the block at path (directories[0].ldap)
// to c: the shared settings, the protected filter and the disabled marker.
// check-config, serve and Open run this one validator.
func (cfg *Config) Validate(c plugin.Checker, path string) {
	cfg.Settings.Validate(c, path, false)
	ldapconn.Filter(c, path+".protected_filter", cfg.ProtectedFilter)
	if (cfg.DisabledAttribute == "") != (cfg.DisabledValue == "") {
		c.Errorf(path+".disabled_value", "disabled_attribute and disabled_value must be set together")
	}
	if cfg.DisabledAttribute != "" && !ldapconn.AttrName(cfg.DisabledAttribute) {
		c.Errorf(path+".disabled_attribute", "%q is not an attribute name (letters, digits, hyphen)", cfg.DisabledAttribute)
	}
}

// RecoveryEmailAttribute returns the attribute email codes go to, and the
// login mailbox attribute it must differ from (for the email factor's
// configuration check).
func (cfg *Config) RecoveryEmailAttribute() (recovery, mailbox string) {
	return cfg.Attributes.RecoveryEmail, cfg.Attributes.Email
}

// PolicyEntry returns the default ppolicy entry (policy_dn); expiry
// reminders need it for accounts without pwdPolicySubentry.
func (cfg *Config) PolicyEntry() string { return cfg.PolicyDN }

// ListsLockouts says that the directory lists locked accounts, so
// outreach.lockout can watch it.
func (cfg *Config) ListsLockouts() bool { return true }

// Open opens the directory cfg configures, as serve does: deps give the
// clock and the mode (production refuses ldap:// without TLS unless
// allow_plain, as validation does).
func (cfg *Config) Open(ctx context.Context, deps directory.Deps) (directory.Directory, error) {
	c := *cfg
	if deps.Now != nil {
		c.Now = deps.Now
	}
	return open(ctx, c, !deps.Demo)
}

// tlsConfig builds the client TLS configuration (shared with ad).
func (cfg Config) tlsConfig() (*tls.Config, error) { return cfg.Settings.TLS() }

// disabledMarker is how a disabled account is marked; empty Attr: never.
type disabledMarker struct{ Attr, Value string }

func (d *Directory) disabled() disabledMarker {
	return disabledMarker{d.cfg.DisabledAttribute, d.cfg.DisabledValue}
}

// FanoutConfig is the ldap block of a fan-out target
// (fanout.targets[i].ldap): the same settings as a directory's, plus the
// account field looked up there.
type FanoutConfig struct {
	Config `yaml:",inline"`
	// Match is login, email or employee_number.
	Match string `yaml:"match"`
}

// NewFanoutConfig returns a FanoutConfig with the directory's defaults: the
// registry entry of fan-out target type ldap.
func NewFanoutConfig() plugin.Config {
	return &FanoutConfig{Config: *NewConfig().(*Config)}
}

// Validate checks the directory settings and match.
func (f *FanoutConfig) Validate(c plugin.Checker, path string) {
	f.Config.Validate(c, path)
	ldapconn.Match(c, path+".match", f.Match)
}

// MatchKey is the lookup key of the target's accounts.
func (f *FanoutConfig) MatchKey() directory.Key { return directory.Key(f.Match) }
