package store

import (
	"context"
	"errors"
	"time"
)

// ErrLeaseLost means a turn's lease was taken over by another owner (the
// turn ran past its lease without renewing it): its commit is refused.
var ErrLeaseLost = errors.New("store: turn lease lost")

// TurnKeys names the records of one conversation turn and who runs it.
//
// On Redis Cluster the three keys must share a {hash tag} so that one
// server-side script can touch them all.
type TurnKeys struct {
	// Session is the conversation's record.
	Session string
	// Lock is the session lease: at most one turn of a conversation runs at a time.
	Lock string
	// Delivery is the claim of the platform's delivery ID; "" when the turn
	// has none (no deduplication).
	Delivery string
	// Owner identifies this attempt (a fresh random value per turn); only the
	// owner may renew or commit.
	Owner string
}

// Acquired says what AcquireTurn found.
type Acquired uint8

// AcquireTurn outcomes.
const (
	// TurnAcquired: the caller holds the lease (and the delivery claim) and
	// may run the turn; Session is the current record (Version 0: none).
	TurnAcquired Acquired = iota + 1
	// TurnDone: the delivery already ran; Outcome is what its turn recorded.
	TurnDone
	// TurnRunning: another owner is running this very delivery now. Its
	// lease is live, so ask again a little later for its outcome.
	TurnRunning
	// TurnBusy: another delivery of the same conversation holds the lease.
	// Nothing was taken; the platform's retry will find the session free.
	TurnBusy
)

// Acquisition is the result of AcquireTurn.
type Acquisition struct {
	State   Acquired
	Session Record
	Outcome []byte
}

// SessionOp says what CommitTurn does with the session record.
type SessionOp uint8

// Session operations of a commit.
const (
	// SessionKeep leaves the session record as it is.
	SessionKeep SessionOp = iota
	// SessionPut writes Value when the record is still at version Expect
	// (0: it must not exist), with expiry TTL.
	SessionPut
	// SessionDelete deletes the record when it is still at version Expect.
	SessionDelete
)

// Commit is what CommitTurn writes.
type Commit struct {
	Op     SessionOp
	Expect uint64
	Value  []byte
	TTL    time.Duration
	// Outcome is kept under the delivery key for Keep, so a repeated
	// delivery gets it instead of running again. nil drops the claim: the
	// turn did nothing and a retry must run.
	Outcome []byte
	Keep    time.Duration
}

// Turns runs a conversation turn as one transaction in two steps. Every
// implementation makes each call atomic over the three keys.
//
//   - AcquireTurn, in one step: a delivery already done gives TurnDone with
//     its outcome; one claimed by a live lease of another owner gives
//     TurnRunning; a session lease held by another owner gives TurnBusy and
//     takes nothing. Otherwise it claims the delivery and takes the lease
//     (both for lease), and returns the session. A claim or lease whose
//     owner stopped renewing lapses after lease, so a crashed turn's retry
//     runs promptly. Acquiring again with the same owner is harmless, so a
//     failed call may be retried.
//   - RenewTurn extends the owner's lease and claim by lease, or returns
//     ErrLeaseLost.
//   - CommitTurn, in one step: checks that no other owner holds the lease
//     (ErrLeaseLost) and that the session is at c.Expect (ErrConflict; the
//     lease and the claim are then released so a retry can run), applies
//     c.Op, records c.Outcome and releases the lease. Committing again after
//     a success (a reply lost on the way back) succeeds without writing twice.
//
// Identical deliveries arriving together therefore run exactly once: one
// acquires, the others see TurnRunning until its outcome is recorded.
type Turns interface {
	AcquireTurn(ctx context.Context, k TurnKeys, lease time.Duration) (Acquisition, error)
	RenewTurn(ctx context.Context, k TurnKeys, lease time.Duration) error
	CommitTurn(ctx context.Context, k TurnKeys, c Commit) error
}

// Turn-record values. The lease and the claim are ordinary records (Get works
// on them) whose value starts with a marker byte.
const (
	// MarkPending prefixes a delivery claim: "p" + owner.
	MarkPending = 'p'
	// MarkDone prefixes a finished delivery: "d" + outcome.
	MarkDone = 'd'
	// MarkLease prefixes a held session lease: "l" + owner.
	MarkLease = 'l'
	// MarkCommitted prefixes a released lease: "c" + owner. It makes a
	// repeated commit of the same owner a no-op and expires after
	// CommittedKeep; any turn may acquire over it.
	MarkCommitted = 'c'
)

// CommittedKeep is how long a released lease remembers its last owner.
const CommittedKeep = 30 * time.Second

// Verdict is what a commit's checks decided (see DecideCommit).
type Verdict uint8

// Commit verdicts.
const (
	// CommitApply: apply the commit.
	CommitApply Verdict = iota + 1
	// CommitRepeated: this owner's commit already applied; do nothing, succeed.
	CommitRepeated
	// CommitLeaseLost: another owner holds the lease; do nothing.
	CommitLeaseLost
	// CommitConflict: the session moved; release this owner's lease and claim.
	CommitConflict
)

// DecideAcquire is AcquireTurn's decision from the live delivery record and
// lease values (nil: missing or expired). Backends that run Go in their
// transaction (memory, bolt) share it; the Redis script mirrors it.
func DecideAcquire(delivery, lease []byte, owner string) Acquired {
	if len(delivery) > 0 {
		switch {
		case delivery[0] == MarkDone:
			return TurnDone
		case delivery[0] == MarkPending && string(delivery[1:]) != owner:
			return TurnRunning
		}
	}
	if len(lease) > 0 && lease[0] == MarkLease && string(lease[1:]) != owner {
		return TurnBusy
	}
	return TurnAcquired
}

// DecideCommit is CommitTurn's decision from the live lease value (nil:
// missing or expired) and the session's current version (0: none).
func DecideCommit(lease []byte, owner string, version uint64, c Commit) Verdict {
	if len(lease) > 0 {
		switch {
		case lease[0] == MarkCommitted && string(lease[1:]) == owner:
			return CommitRepeated
		case lease[0] == MarkLease && string(lease[1:]) != owner:
			return CommitLeaseLost
		}
	}
	if c.Op != SessionKeep && version != c.Expect {
		return CommitConflict
	}
	return CommitApply
}

// Owned reports whether a lease or claim value is marked mark by owner.
func Owned(v []byte, mark byte, owner string) bool {
	return len(v) > 0 && v[0] == mark && string(v[1:]) == owner
}

// Marked returns mark followed by s.
func Marked(mark byte, s []byte) []byte {
	b := make([]byte, 0, 1+len(s))
	return append(append(b, mark), s...)
}

// CheckTurn validates AcquireTurn and RenewTurn arguments for every backend.
func CheckTurn(k TurnKeys, lease time.Duration) error {
	if lease <= 0 {
		return errors.New("store: a turn lease must be positive")
	}
	if k.Session == "" || k.Lock == "" || k.Owner == "" {
		return errors.New("store: a turn needs session and lock keys and an owner")
	}
	return nil
}

// CheckCommit validates CommitTurn arguments for every backend.
func CheckCommit(k TurnKeys, c Commit) error {
	if c.TTL < 0 || c.Keep < 0 {
		return errors.New("store: negative ttl")
	}
	return CheckTurn(k, time.Second)
}
