// Package directory is the contract between resetbot and the company directory
// (OpenLDAP, Active Directory, the in-memory demo directory): find a user, read the
// account's status, reset the password, unlock the account.
//
// Implementations live in sub-packages (ldap/, ad/, memory/) and never import each
// other; directorytest holds the conformance suite every implementation must pass.
// Backend errors are translated here, at the edge: LDAP result codes, ppolicy
// controls and AD extended errors become a *RefusedError with a Reason, or are
// wrapped with ErrUnavailable. Callers never look at err.Error().
package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/secret"
)

// Key names what a lookup value is.
type Key string

// Lookup keys. Values are matched exactly (case-insensitively for login and
// email); phone numbers are compared in E.164 form.
const (
	ByLogin          Key = "login"           // uid, sAMAccountName or UPN
	ByEmail          Key = "email"           // mail
	ByPhone          Key = "phone"           // mobile
	ByEmployeeNumber Key = "employee_number" // employeeNumber / employeeID, or a numeric alias
)

// User is what resetbot knows of a directory account. It never holds a password.
type User struct {
	// ID is stable and unique within its directory (the DN for LDAP and AD).
	ID string `json:"id"`
	// Directory is the configured name of the directory holding the account.
	Directory   string `json:"directory,omitempty"`
	Login       string `json:"login"`
	DisplayName string `json:"display_name,omitempty"`
	// PreferredLanguage is the account's preferredLanguage (RFC 2798, a
	// BCP 47 tag such as "fr" or "pt-BR"); flows speak it once the user is
	// verified, never before (it would tell whether the account exists).
	PreferredLanguage string `json:"preferred_language,omitempty"`
	GivenName         string `json:"given_name,omitempty"`
	Surname           string `json:"surname,omitempty"`
	// Email is the account's own work mailbox (attribute mail): an identifier
	// and a chat lookup key, never a verification factor.
	Email          string `json:"email,omitempty"`
	Mobile         string `json:"mobile,omitempty"`
	EmployeeNumber string `json:"employee_number,omitempty"`
	// RecoveryEmail is a personal/recovery address of record (an attribute
	// the operator maps; empty when none): the only address email codes go to.
	RecoveryEmail string `json:"recovery_email,omitempty"`
	// Manager identifies the account's manager (the directory's manager
	// attribute, a DN), for notices; empty when none.
	Manager string `json:"manager,omitempty"`
}

// Status is the state of an account, read before anything is changed.
type Status struct {
	// Locked is a lockout after failed logons (or any lock, see AdminLocked).
	Locked bool
	// LockedUntil is when a lockout ends by itself; zero means "until unlocked".
	LockedUntil time.Time
	// AdminLocked means an administrator locked the account until an
	// administrator unlocks it (OpenLDAP ppolicy pwdAccountLockedTime
	// 000001010000Z); Locked is then true as well. Self-service never lifts it.
	AdminLocked bool
	// Disabled means an administrator disabled the account (AD
	// userAccountControl ACCOUNTDISABLE, or the configured LDAP attribute).
	Disabled bool
	// Expired means the account (not the password) has expired: AD
	// accountExpires, OpenLDAP pwdEndTime or shadowExpire in the past.
	Expired bool
	// PasswordExpired means the current password can no longer be used to log in.
	PasswordExpired bool
	// Protected accounts (administrators, service accounts, protected groups)
	// are never reset or unlocked by the bot.
	Protected bool
	// PasswordChangeableAt is the earliest time the password may change again
	// (minimum password age); zero means now.
	PasswordChangeableAt time.Time
}

// Hold says why an account is out of self-service's reach: an
// administrator's decision that only an administrator may undo.
type Hold string

// Holds, in the order Status.Hold reports them. Each has a catalogued
// plain-language message "preflight.<hold>".
const (
	HoldNone        Hold = ""
	HoldDisabled    Hold = "disabled"
	HoldExpired     Hold = "expired"
	HoldAdminLocked Hold = "admin_locked"
)

// Hold returns what holds the account, or HoldNone. A held account is never
// reset or unlocked by the bot: an off-boarded user who still has their phone
// must not re-enable the account that was taken from them.
func (s Status) Hold() Hold {
	switch {
	case s.Disabled:
		return HoldDisabled
	case s.Expired:
		return HoldExpired
	case s.AdminLocked:
		return HoldAdminLocked
	}
	return HoldNone
}

// ResetOptions tune a password reset.
type ResetOptions struct {
	// MustChange makes the user change the password at next logon
	// (pwdReset on OpenLDAP, pwdLastSet=0 on AD). Always set for generated passwords.
	MustChange bool
}

// Directory is one company directory.
//
// Implementations are safe for concurrent use. Every method that talks to a
// server honours ctx. A user that is not found is a result (an empty slice), not
// an error. ResetPassword and Unlock either complete or change nothing visible;
// when that cannot be known (a timeout after the write was sent) they return an
// error wrapping ErrAmbiguous.
type Directory interface {
	// Find returns the accounts whose attribute named by key equals value.
	// More than one result means the value is shared (ask for more).
	Find(ctx context.Context, key Key, value string) ([]User, error)
	// Status reads the account's current state.
	Status(ctx context.Context, u User) (Status, error)
	// ResetPassword sets a new password as an administrator would. Directory
	// policy refusals come back as *RefusedError; protected accounts as
	// ErrProtected; held accounts (Status.Hold) as *HeldError, before
	// anything is written (on OpenLDAP a password change would also clear an
	// administrator's lock).
	ResetPassword(ctx context.Context, u User, password secret.String, opts ResetOptions) error
	// Unlock clears a lockout after failed logons. Unlocking an account that
	// is not locked is not an error. A held account (disabled, expired or
	// locked by an administrator) is refused with *HeldError and left as it is.
	Unlock(ctx context.Context, u User) error
}

// Checker is implemented by directories that can check their connection at
// startup (bind + search). serve and check-config refuse to go on when it fails.
type Checker interface {
	Check(ctx context.Context) error
}

// Lister is implemented by directories that can enumerate the accounts in
// scope (those Find can find: the base DN and user filter), for the
// adoption count (users with a factor enrolled / users in scope).
//
// List calls fn with each page of at most pageSize users, in a stable
// order, until the last page, fn's first error (returned as is) or ctx's
// end. It never holds the whole directory in memory: LDAP and AD use the
// Simple Paged Results control (RFC 2696). A failure after pages were
// delivered is not retried (fn would see users twice).
type Lister interface {
	List(ctx context.Context, pageSize int, fn func([]User) error) error
}

// ErrNotListable means a directory behind a Router cannot list its users.
var ErrNotListable = errors.New("directory: cannot list users")

// Closer is implemented by directories that hold connections.
type Closer interface {
	Close() error
}

// Sentinel errors. Test with errors.Is.
var (
	// ErrNotFound means the user given to Status, ResetPassword or Unlock no longer exists.
	ErrNotFound = errors.New("directory: user not found")
	// ErrProtected means the account is protected and the bot must not touch it.
	ErrProtected = errors.New("directory: account is protected")
	// ErrUnavailable wraps server, network and TLS failures.
	ErrUnavailable = errors.New("directory: unavailable")
	// ErrAmbiguous means a write was sent but its outcome is unknown.
	ErrAmbiguous = errors.New("directory: outcome unknown")
	// ErrRefused is matched by every *RefusedError.
	ErrRefused = errors.New("directory: refused by policy")
	// ErrHeld is matched by every *HeldError.
	ErrHeld = errors.New("directory: account held by an administrator")
)

// HeldError refuses a reset or unlock of an account that an administrator
// disabled, let expire or locked. Only an administrator may undo that.
type HeldError struct {
	Hold Hold
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("directory: account held by an administrator (%s): self-service may not change it", e.Hold)
}

// Is makes errors.Is(err, ErrHeld) true for every *HeldError.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Refuse returns a *HeldError when st holds the account, else nil.
func Refuse(st Status) error {
	if h := st.Hold(); h != HoldNone {
		return &HeldError{Hold: h}
	}
	return nil
}

// Reason says in a word why the directory refused a new password.
type Reason string

// Reasons a directory refuses a password. Each has a catalogued plain-language
// message "password.rejected.<reason>".
const (
	ReasonTooShort Reason = "too_short"
	ReasonHistory  Reason = "history"   // used before
	ReasonTooYoung Reason = "too_young" // minimum age not reached
	ReasonQuality  Reason = "quality"   // complexity / quality check
	ReasonPolicy   Reason = "policy"    // any other policy refusal
)

// RefusedError is a directory policy refusal. Detail is a plain-language
// sentence safe to log (it never contains the password).
type RefusedError struct {
	Reason Reason
	Detail string
}

func (e *RefusedError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("directory: password refused (%s)", e.Reason)
	}
	return fmt.Sprintf("directory: password refused (%s): %s", e.Reason, e.Detail)
}

// Is makes errors.Is(err, ErrRefused) true for every *RefusedError.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }
