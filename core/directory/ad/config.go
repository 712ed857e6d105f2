package ad

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/internal/ldapconn"
	"github.com/resetbot/resetbot/core/plugin"
)

// Settings are the connection, bind, search, attribute and pool settings
// the ad and ldap directories share (one declaration, one validator).
// For AD, BindDN may be a UPN (bot@example.org), Attributes.Login is matched
// together with userPrincipalName (and login@Domain), and UserFilter is
// always ANDed with (objectCategory=person)(objectClass=user), so no setting
// can make a computer or contact account resettable. Built-in privileged
// groups (Domain Admins, Enterprise Admins, Administrators, operators…) and
// adminCount=1 accounts are always protected, besides ProtectedGroups
// (nested groups included). AllowPlain is refused: AD only accepts
// unicodePwd over an encrypted connection.
type Settings = ldapconn.Settings

// AttrMap names the AD attributes behind the lookup keys.
type AttrMap = ldapconn.Attributes

// Config configures an Active Directory backend: the directories[i].ad
// block, and the ad block of a fan-out target (FanoutConfig). Its YAML keys
// are Settings' plus the ones below.
type Config struct {
	Settings `yaml:",inline"`
	// Name is the configured name of this directory, copied to
	// User.Directory. It is the directory's name, not a key of its block:
	// Open sets it from the deps.
	Name string `yaml:"-"`
	// Domain is the DNS domain of the AD forest (corp.example), the UPN
	// suffix: a login without "@" is also tried as login@Domain.
	Domain string `yaml:"domain"`
	// AllowProtected lets the bot reset protected accounts. Default false;
	// meant for a lab, never for production.
	AllowProtected bool `yaml:"allow_protected"`
}

var (
	_ plugin.Config    = (*Config)(nil)
	_ directory.Opener = (*Config)(nil)
)

// Defaults for unset Config fields.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 10 * time.Second
	DefaultPoolSize       = 4
	// DefaultUserFilter is the documented user_filter: person accounts.
	DefaultUserFilter = "(&" + personFilter + ")"
)

// defaultSettings are AD's defaults.
var defaultSettings = ldapconn.Defaults(DefaultUserFilter, ldapconn.Attributes{
	Login: "sAMAccountName", Email: "mail", Mobile: "mobile", EmployeeNumber: "employeeID",
	DisplayName: "displayName", GivenName: "givenName", Surname: "sn",
})

// NewConfig returns a Config with its defaults: the registry entry of type
// ad, over which the directories[i].ad block is decoded.
func NewConfig() plugin.Config { return &Config{Settings: defaultSettings} }

// withDefaults returns cfg with the zero fields that have a default filled
// in (for a Config built in Go).
func (c Config) withDefaults() Config {
	c.Settings.Fill(defaultSettings)
	return c
}

// Validate reports every problem with the block at path (directories[0].ad)
// to c. check-config, serve and Open run this one validator.
func (c *Config) Validate(ch plugin.Checker, path string) {
	c.Settings.Validate(ch, path, true)
	if c.Domain == "" {
		ch.Errorf(path+".domain", "is required (the AD DNS domain, e.g. corp.example)")
	}
	if c.AllowProtected {
		ch.Warnf(path+".allow_protected", "protected (adminCount=1) accounts can be reset by the bot")
	}
}

// RecoveryEmailAttribute returns the attribute email codes go to, and the
// login mailbox attribute it must differ from (for the email factor's
// configuration check).
func (c *Config) RecoveryEmailAttribute() (recovery, mailbox string) {
	return c.Attributes.RecoveryEmail, c.Attributes.Email
}

// ListsLockouts says that the directory lists locked accounts, so
// outreach.lockout can watch it.
func (c *Config) ListsLockouts() bool { return true }

// Open opens the directory c configures, named deps.Name, with deps' clock.
func (c *Config) Open(ctx context.Context, deps directory.Deps) (directory.Directory, error) {
	cfg := *c
	cfg.Name = deps.Name
	d, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if deps.Now != nil {
		d.now = deps.Now
	}
	return d, nil
}

// tlsConfig builds the client TLS configuration with the shared transport's
// rules: TLS 1.2 or later, the configured CAs (or the system roots) and the
// server name.
func (c Config) tlsConfig() (*tls.Config, error) {
	tc, err := c.Settings.TLS()
	if err != nil {
		return nil, fmt.Errorf("ad: %w", err)
	}
	return tc, nil
}

// FanoutConfig is the ad block of a fan-out target (fanout.targets[i].ad):
// the same settings as a directory's, plus the account field looked up
// there.
type FanoutConfig struct {
	Config `yaml:",inline"`
	// Match is login, email or employee_number.
	Match string `yaml:"match"`
}

// NewFanoutConfig returns a FanoutConfig with the directory's defaults: the
// registry entry of fan-out target type ad.
func NewFanoutConfig() plugin.Config { return &FanoutConfig{Config: Config{Settings: defaultSettings}} }

// Validate checks the directory settings and match.
func (f *FanoutConfig) Validate(c plugin.Checker, path string) {
	f.Config.Validate(c, path)
	ldapconn.Match(c, path+".match", f.Match)
}

// MatchKey is the lookup key of the target's accounts.
func (f *FanoutConfig) MatchKey() directory.Key { return directory.Key(f.Match) }
