// Package ldaptarget is the directory fan-out target: another LDAP or Active
// Directory (a lab forest, a partner directory) whose account for the person
// is found by an attribute (login, email or employee number) and reset with
// the same code that resets the primary (core/directory/ldap, core/directory/ad).
package ldaptarget

import (
	"context"
	"errors"
	"fmt"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/fanout"
)

// Config is the directory target's block.
type Config struct {
	Name  string
	Label string
	// Match is the field of the primary account looked up in the target
	// (directory.ByLogin, ByEmail or ByEmployeeNumber); the target
	// directory's attribute map says which LDAP attribute holds it.
	Match       directory.Key
	Constraints fanout.Constraints
	// OpenDirectory opens the target directory (an ldap or ad backend).
	OpenDirectory func(ctx context.Context) (directory.Directory, error)
}

// Validate reports every problem with the block.
func (c Config) Validate() error {
	var errs []error
	switch c.Match {
	case directory.ByLogin, directory.ByEmail, directory.ByEmployeeNumber:
	default:
		errs = append(errs, fmt.Errorf("match must be login, email or employee_number, not %q", c.Match))
	}
	if c.OpenDirectory == nil {
		errs = append(errs, errors.New("the target directory is not configured"))
	}
	return errors.Join(errs...)
}

// Open opens the target directory.
func (c Config) Open(ctx context.Context) (fanout.Target, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	d, err := c.OpenDirectory(ctx)
	if err != nil {
		return nil, fmt.Errorf("directory target %s: %w", c.Name, err)
	}
	return &Target{cfg: c, dir: d}, nil
}

// Target resets the mapped account in another directory.
type Target struct {
	cfg Config
	dir directory.Directory
}

var _ fanout.Target = (*Target)(nil)

// Name implements fanout.Target.
func (t *Target) Name() string { return t.cfg.Name }

// Label implements fanout.Target.
func (t *Target) Label() string { return t.cfg.Label }

// Constraints implements fanout.Target.
func (t *Target) Constraints() fanout.Constraints { return t.cfg.Constraints }

// value is the primary account's value of the match field.
func (t *Target) value(u directory.User) string {
	switch t.cfg.Match {
	case directory.ByEmail:
		return u.Email
	case directory.ByEmployeeNumber:
		return u.EmployeeNumber
	default:
		return u.Login
	}
}

// Push implements fanout.Target. An account that is missing, shared,
// protected, held or whose policy refuses the password is a permanent
// failure (people must look at it); an unreachable directory is retried.
func (t *Target) Push(ctx context.Context, r fanout.Request) error {
	v := t.value(r.User)
	if v == "" {
		return fmt.Errorf("directory target %s: the account has no %s: %w", t.cfg.Name, t.cfg.Match, fanout.ErrPermanent)
	}
	us, err := t.dir.Find(ctx, t.cfg.Match, v)
	if err != nil {
		return fmt.Errorf("directory target %s: find: %w", t.cfg.Name, err)
	}
	if len(us) != 1 {
		return fmt.Errorf("directory target %s: %d accounts match: %w", t.cfg.Name, len(us), fanout.ErrPermanent)
	}
	err = t.dir.ResetPassword(ctx, us[0], r.Password, directory.ResetOptions{})
	var refused *directory.RefusedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &refused), errors.Is(err, directory.ErrProtected), errors.Is(err, directory.ErrHeld):
		return fmt.Errorf("directory target %s: %w: %w", t.cfg.Name, err, fanout.ErrPermanent)
	default:
		return fmt.Errorf("directory target %s: reset: %w", t.cfg.Name, err)
	}
}

// Close closes the target directory's connections.
func (t *Target) Close() error {
	if c, ok := t.dir.(directory.Closer); ok {
		return c.Close()
	}
	return nil
}
