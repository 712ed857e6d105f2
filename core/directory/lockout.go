package directory

import (
	"context"
	"time"
)

// Lockout is an account the directory reports as locked after failed
// logons, as read by a LockoutSource.
type Lockout struct {
	User User
	// At is when the account was locked (AD lockoutTime, OpenLDAP
	// pwdAccountLockedTime). With the account it names the event: the
	// same account locked again later is a new event.
	At time.Time
	// Admin is an administrator's lock (pwdAccountLockedTime
	// 000001010000Z): never offered for self-service.
	Admin bool
	// Source is where the failed logons came from, when the directory
	// says (neither AD nor OpenLDAP does over LDAP: empty).
	Source string
}

// LockoutQuery selects what a LockoutSource reads.
type LockoutQuery struct {
	// Cursor is the high-water mark returned by the previous read; empty
	// starts from the beginning (every account locked now, bounded by
	// Since).
	Cursor string
	// Since drops lockouts older than this (the watcher's max_age).
	Since time.Time
	// Bases are the subtrees to read (OUs); empty means the directory's
	// base DN. Each must be inside the base DN.
	Bases []string
	// Groups restrict the read to members of these group DNs (AD: nested
	// membership; OpenLDAP: the memberOf overlay must be loaded).
	Groups []string
}

// LockoutRead is the result of one incremental read.
type LockoutRead struct {
	Lockouts []Lockout
	// Cursor is the high-water mark to pass next time.
	Cursor string
	// Entries is how many entries the server returned (the directory's
	// load for this poll, with the time the caller measures).
	Entries int
	// Full says the read was not incremental (first read, or the cursor
	// did not apply to this server: another AD domain controller).
	Full bool
}

// LockoutSource is implemented by directories that can list locked
// accounts incrementally, without a full scan per poll: AD by uSNChanged,
// OpenLDAP by modifyTimestamp.
//
// Implementations are safe for concurrent use and honour ctx. A read may
// return a lockout again (the cursor overlaps by design so nothing
// committed late is missed): callers deduplicate by (User.ID, At).
type LockoutSource interface {
	Lockouts(ctx context.Context, q LockoutQuery) (LockoutRead, error)
}
