package fanout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/store"
)

// Outbox keys. Every value under them is sealed under the keyring: the store
// (and a dump of it) holds neither the password nor the account's DN.
const (
	indexKey   = "fanout:index"
	itemPrefix = "fanout:item:"
	// MaxWindow is the longest a password may wait in the outbox.
	MaxWindow = 10 * time.Minute
	// DefaultWindow is the retry window when none is configured.
	DefaultWindow = 5 * time.Minute
	// DefaultMaxItems bounds the outbox: past it a failed target is reported
	// failed at once rather than queued.
	DefaultMaxItems = 1000
	casTries        = 8
)

// ErrOutboxFull is returned by enqueue when the outbox holds MaxItems.
var ErrOutboxFull = errors.New("fanout: outbox full")

// item is one pending push. It holds the password and is only ever stored
// sealed, with a store expiry at its deadline.
type item struct {
	ID       string         `json:"id"`
	Ref      string         `json:"ref"`
	Locale   string         `json:"locale,omitempty"`
	Target   string         `json:"target"`
	User     directory.User `json:"user"`
	Password string         `json:"pw"`
	Deadline int64          `json:"deadline"` // unix seconds
	Attempts int            `json:"attempts"`
	NextAt   int64          `json:"next_at"`
	// ClaimUntil is when a replica's claim on the item lapses (unix nanos).
	ClaimUntil int64  `json:"claim_until,omitempty"`
	Owner      string `json:"owner,omitempty"`
}

// entry is the index's view of an item: enough to report it failed after the
// item itself expired, never the password.
type entry struct {
	ID       string         `json:"id"`
	Ref      string         `json:"ref"`
	Locale   string         `json:"locale,omitempty"`
	Target   string         `json:"target"`
	User     directory.User `json:"user"`
	Deadline int64          `json:"deadline"`
}

// outbox is the sealed, expiring queue of pushes to retry.
type outbox struct {
	st       store.Store
	ring     *crypt.Keyring
	window   time.Duration
	maxItems int
	now      func() time.Time
}

func (o *outbox) seal(key string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	ct, err := o.ring.Seal(b, []byte(key))
	clear(b)
	return ct, err
}

func (o *outbox) open(key string, ct []byte, v any) error {
	b, err := o.ring.Open(ct, []byte(key))
	if err != nil {
		return fmt.Errorf("open %s: %w", key, err)
	}
	defer clear(b)
	return json.Unmarshal(b, v)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// readIndex returns the index entries and the record version (0: absent).
func (o *outbox) readIndex(ctx context.Context) ([]entry, uint64, error) {
	rec, err := o.st.Get(ctx, indexKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("outbox index: %w", err)
	}
	var es []entry
	if err := o.open(indexKey, rec.Value, &es); err != nil {
		return nil, 0, err
	}
	return es, rec.Version, nil
}

// updateIndex applies fn to the index under compare-and-swap. fn returns
// false to leave the index unchanged (updateIndex then reports false).
func (o *outbox) updateIndex(ctx context.Context, fn func([]entry) ([]entry, bool, error)) (bool, error) {
	for range casTries {
		es, ver, err := o.readIndex(ctx)
		if err != nil {
			return false, err
		}
		next, change, err := fn(es)
		if err != nil || !change {
			return false, err
		}
		ct, err := o.seal(indexKey, next)
		if err != nil {
			return false, err
		}
		// The index outlives its newest item by a minute, so an expired
		// item can still be reported.
		_, err = o.st.CompareAndSwap(ctx, indexKey, ver, ct, o.window+time.Minute)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return err == nil, err
	}
	return false, fmt.Errorf("outbox index: %w", store.ErrConflict)
}

// enqueue stores a push to retry, sealed, expiring at the window's end.
func (o *outbox) enqueue(ctx context.Context, og Origin, target string, u directory.User, pw string) error {
	now := o.now()
	it := item{ID: newID(), Ref: og.Ref, Locale: og.Locale, Target: target, User: u, Password: pw,
		Deadline: now.Add(o.window).Unix(), NextAt: now.Add(firstRetry).Unix()}
	_, err := o.updateIndex(ctx, func(es []entry) ([]entry, bool, error) {
		if len(es) >= o.maxItems {
			return nil, false, ErrOutboxFull
		}
		return append(es, entry{ID: it.ID, Ref: og.Ref, Locale: og.Locale, Target: target, User: u, Deadline: it.Deadline}), true, nil
	})
	if err != nil {
		return err
	}
	ct, err := o.seal(itemPrefix+it.ID, it)
	if err != nil {
		return err
	}
	_, err = o.st.CompareAndSwap(ctx, itemPrefix+it.ID, 0, ct, o.window)
	return err
}

// remove drops id from the index and reports whether this call removed it:
// exactly one replica wins, and only the winner reports the outcome.
func (o *outbox) remove(ctx context.Context, id string) (bool, error) {
	return o.updateIndex(ctx, func(es []entry) ([]entry, bool, error) {
		i := slices.IndexFunc(es, func(e entry) bool { return e.ID == id })
		if i < 0 {
			return nil, false, nil
		}
		return slices.Delete(slices.Clone(es), i, i+1), true, nil
	})
}

// claim outcomes.
type claimState int

const (
	claimOK   claimState = iota // this replica holds the item
	claimBusy                   // not due yet, or another replica holds it
	claimGone                   // the item expired from the store (or was pushed)
)

// claim takes the item for owner until lease ends, by compare-and-swap on
// the item's version: two replicas never hold the same item.
func (o *outbox) claim(ctx context.Context, id, owner string, lease time.Duration) (item, uint64, claimState, error) {
	key := itemPrefix + id
	rec, err := o.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return item{}, 0, claimGone, nil
	}
	if err != nil {
		return item{}, 0, claimBusy, fmt.Errorf("outbox item: %w", err)
	}
	var it item
	if err := o.open(key, rec.Value, &it); err != nil {
		return item{}, 0, claimBusy, err
	}
	now := o.now()
	if it.ClaimUntil > now.UnixNano() || (it.NextAt > now.Unix() && it.Deadline > now.Unix()) {
		return item{}, 0, claimBusy, nil
	}
	it.Owner, it.ClaimUntil = owner, now.Add(lease).UnixNano()
	ver, err := o.put(ctx, it, rec.Version)
	if errors.Is(err, store.ErrConflict) {
		return item{}, 0, claimBusy, nil // another replica claimed it first
	}
	if err != nil {
		return item{}, 0, claimBusy, err
	}
	return it, ver, claimOK, nil
}

// put re-seals it over version ver, keeping the expiry at the deadline.
func (o *outbox) put(ctx context.Context, it item, ver uint64) (uint64, error) {
	ttl := time.Unix(it.Deadline, 0).Sub(o.now())
	if ttl < time.Second {
		ttl = time.Second
	}
	ct, err := o.seal(itemPrefix+it.ID, it)
	if err != nil {
		return 0, err
	}
	return o.st.CompareAndSwap(ctx, itemPrefix+it.ID, ver, ct, ttl)
}
