package totp

import (
	"context"
	"strings"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/factor"
	"github.com/resetbot/resetbot/core/plugin"
)

// Config is the authenticator factor's block, factors.totp.
type Config struct {
	// Issuer is shown in the authenticator app next to the account.
	Issuer string `yaml:"issuer"`
}

// NewConfig returns the defaults (issuer "resetbot").
func NewConfig() plugin.Config { return &Config{Issuer: DefaultIssuer} }

// Validate checks the issuer, which the app shows and the otpauth URI
// carries as its label prefix.
func (c *Config) Validate(ch plugin.Checker, path string) {
	switch {
	case c.Issuer == "":
		ch.Errorf(path+".issuer", "is required when totp is enabled")
	case strings.Contains(c.Issuer, ":"):
		ch.Errorf(path+".issuer", "must not contain ':' (it separates the issuer from the account in the app)")
	}
}

// Group is the authenticator app.
func (c *Config) Group() identity.Group { return identity.GroupApp }

// Open builds the verifier on the shared store and keyring.
func (c *Config) Open(_ context.Context, d factor.Deps) (identity.Method, error) {
	v := New(d.Store, d.Keyring, Options{Issuer: c.Issuer, Clock: d.Clock, Rand: d.Rand})
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return Method{V: v}, nil
}
