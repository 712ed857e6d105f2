// Package directorytest is the conformance suite every directory.Directory
// implementation must pass: the in-memory fake, OpenLDAP (slapd) and Active
// Directory (Samba). A backend's test builds a Harness that opens a fresh,
// prepared directory and calls Run.
package directorytest

import (
	"context"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

// Harness describes a backend under test.
type Harness struct {
	// New opens a directory holding the fixtures in their initial state. The
	// suite calls it once for the read-only tests and once per test that
	// changes state, so a backend may return a brand-new server each time or
	// restore the fixtures in place. Cleanup is registered on t.
	New func(t *testing.T) *Instance
	// Reasons lists the refusal reasons the backend's test policy enforces and
	// reports; the suite tests only those. Recognised: ReasonTooShort,
	// ReasonHistory, ReasonTooYoung (needs Fixtures.TooYoung).
	Reasons []directory.Reason
}

// Instance is one prepared directory plus the hooks the suite needs to look
// behind the contract.
type Instance struct {
	// Dir is the directory under test.
	Dir directory.Directory
	// Fixtures names the prepared accounts.
	Fixtures Fixtures
	// Bind reports whether login can authenticate with password right now
	// (a wrong password is false, not an error).
	Bind func(ctx context.Context, login string, password secret.String) (bool, error)
	// SetLocked locks the account as the server would after failed logons:
	// an ordinary lockout that self-service may lift.
	SetLocked func(ctx context.Context, u directory.User) error
	// SetHeld puts the account out of self-service's reach as an
	// administrator would (OpenLDAP's 000001010000Z lock, AD's disable) and
	// returns the Hold that Status must then report.
	SetHeld func(ctx context.Context, u directory.User) (directory.Hold, error)
	// MustChange reports whether the account must change its password at next
	// logon. Nil skips the MustChange test.
	MustChange func(ctx context.Context, u directory.User) (bool, error)
	// SetMaxPasswordAge sets the maximum password age of the policy that
	// governs Normal and Disabled (ppolicy's default pwdMaxAge, AD's domain
	// maxPwdAge), for the expiry tests. Nil skips them; a backend whose
	// Dir is not a directory.ExpiryLister must leave it nil.
	SetMaxPasswordAge func(ctx context.Context, maxAge time.Duration) error
}

// Account is a prepared account. Empty fields are not looked up.
type Account struct {
	Login          string
	Email          string
	Phone          string // E.164
	EmployeeNumber string
	// Password is the account's initial password (needed for Normal and Protected).
	Password secret.String
}

// Fixtures are the accounts a backend prepares for the suite. Every account
// must have a distinct login; Normal must have every lookup attribute set.
type Fixtures struct {
	// Normal is an enabled, unlocked, unprotected user with a known password
	// whose password may be changed now.
	Normal Account
	// Other is a second ordinary user sharing no attribute with Normal.
	Other Account
	// Locked is a user locked out after failed logons (not by an administrator).
	Locked Account
	// Disabled is a disabled user.
	Disabled Account
	// Expired, when set, is a user whose account (not password) has expired.
	Expired Account
	// AdminLocked, when set, is a user locked by an administrator until an
	// administrator unlocks it (ppolicy 000001010000Z).
	AdminLocked Account
	// Protected is a protected user (admin, protected group) with a known password.
	Protected Account
	// TooYoung, when set, is a user whose password changed too recently to
	// change again (minimum password age), with a known password.
	TooYoung Account
	// SharedEmployeeNumber, when set, is an employee number (or numeric
	// alias) held by two or more users.
	SharedEmployeeNumber string
	// MissingID is a well-formed user ID of an account that does not exist;
	// empty skips the not-found tests.
	MissingID string
}
