package outreach

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// Keys derives store key names from identifiers with HMAC-SHA-256 under a
// key of its own, so the shared store never holds an account name, an email
// or a lockout time in clear (and no unkeyed hash of them).
type Keys struct{ key []byte }

// NewKeys returns Keys under key (the app derives it from keys.hmac for
// "outreach"; at least 32 bytes).
func NewKeys(key []byte) (Keys, error) {
	if len(key) < 32 {
		return Keys{}, errors.New("outreach: HMAC key shorter than 32 bytes")
	}
	return Keys{key: append([]byte(nil), key...)}, nil
}

// Name is "out:<purpose>:{<128-bit HMAC of the parts>}". The braces keep
// one subject's keys in one Redis Cluster slot.
func (k Keys) Name(purpose string, parts ...string) string {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(purpose))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return "out:" + purpose + ":{" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16]) + "}"
}

// Once claims events in the shared store so that each is acted on exactly
// once across replicas and restarts.
type Once struct {
	St   store.Store
	Keys Keys
}

// Claim marks the event named by parts (e.g. directory, account ID and the
// lockout's time) as handled for ttl. It returns true for the one caller
// that claimed it first; every later call, from any replica, until ttl ends,
// returns false. Claim before sending: a crash after the claim loses one
// message rather than risking two (the user can still ask the bot).
func (o Once) Claim(ctx context.Context, kind string, ttl time.Duration, parts ...string) (bool, error) {
	_, err := o.St.CompareAndSwap(ctx, o.Keys.Name("once:"+kind, parts...), 0, []byte{1}, ttl)
	switch {
	case errors.Is(err, store.ErrConflict):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("outreach: claim %s: %w", kind, err)
	}
	return true, nil
}

// Allow counts one notice to the subject named by parts in a fixed window
// and reports whether it is within max. This is the per-user rate limit: a
// user locked out ten times in an hour gets at most max DMs.
func (o Once) Allow(ctx context.Context, kind string, max int, window time.Duration, parts ...string) (bool, error) {
	n, err := o.St.Incr(ctx, o.Keys.Name("rate:"+kind, parts...), 1, window)
	if err != nil {
		return false, fmt.Errorf("outreach: rate %s: %w", kind, err)
	}
	return n <= int64(max), nil
}
