package memory

import (
	"context"
	"errors"
	"strings"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/plugin"
)

// Config configures the demo directory (type memory). It has no settings:
// the demo company is fixed (DemoAccounts). It exists in demo mode only,
// and refuses production twice: in Validate, so check-config reports it at
// directories[i].type, and in Open, should validation ever be bypassed.
type Config struct{}

var (
	_ plugin.Config    = (*Config)(nil)
	_ directory.Opener = (*Config)(nil)
)

// NewConfig returns the registry entry of type memory.
func NewConfig() plugin.Config { return &Config{} }

// ErrProduction is returned by Open outside demo mode.
var ErrProduction = errors.New("the memory directory exists only in demo mode")

// Validate refuses production mode. The problem is reported at the
// directory's type setting (path is directories[i].memory, the block of the
// type; a memory directory usually has no block, so the type line is the
// one to show).
func (c *Config) Validate(ch plugin.Checker, path string) {
	if ch.Production() {
		ch.Errorf(strings.TrimSuffix(path, ".memory")+".type",
			"memory is the demo directory and can never be selected by a production config; use ldap or ad")
	}
}

// ExtraDomains are routed to the demo directory besides its configured
// domains: the demo company's own.
func (c *Config) ExtraDomains() []string { return []string{DemoDomain} }

// Open returns the demo directory, in demo mode only.
func (c *Config) Open(_ context.Context, deps directory.Deps) (directory.Directory, error) {
	if !deps.Demo {
		return nil, ErrProduction
	}
	d, err := NewDemo(AckDemoOnly)
	if err != nil {
		return nil, err
	}
	if deps.Now != nil {
		d.SetClock(deps.Now)
	}
	return d, nil
}
