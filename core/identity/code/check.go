package code

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Check compares code with the challenge's live code. Verified consumes it (a
// second Check of the same code is Expired). A wrong code counts one attempt and
// returns Wrong, or Exhausted when it used the last one; an exhausted challenge
// refuses even the right code until a new one is issued. Expired means there is
// no live code: never issued, past its TTL, cancelled or already used.
//
// Spaces and dashes are ignored. Input of the wrong length or with non-digits is
// Wrong without counting an attempt: it cannot be the code, so it tells a guesser
// nothing, and it spares users who mistype the length.
func (c *Codes) Check(ctx context.Context, challengeKey string, code secret.String) (identity.Result, error) {
	return c.CheckAttempt(ctx, challengeKey, code, "")
}

// CheckAttempt is Check for one platform delivery (attempt, e.g. a Slack
// event or a Twilio key press; "" for none). The same right code checked
// again for the same delivery is Verified again instead of Expired: the
// platform retrying a turn whose check consumed the code but whose session
// was never saved (the store failing over between the two) gets the answer
// the first try got. Any other delivery still finds the code used. The
// record keeps only a keyed 8-byte tag of the delivery.
func (c *Codes) CheckAttempt(ctx context.Context, challengeKey string, code secret.String, attempt string) (identity.Result, error) {
	if err := c.ready(challengeKey); err != nil {
		return identity.Wrong, err
	}
	key := storeKey(challengeKey)
	in := normalise(code.Reveal())
	for range maxCASRetries {
		rec, err := c.st.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return identity.Expired, nil
		}
		if err != nil {
			return identity.Wrong, fmt.Errorf("code: reading challenge: %w", err)
		}
		r, err := decode(rec.Value)
		if err != nil {
			return identity.Wrong, err
		}
		now := c.opts.Clock()
		switch {
		case r.used && attempt != "" && len(r.usedBy) > 0 && wellFormed(in, r.digits) && now.Before(r.expiry) &&
			hmac.Equal(c.attemptTag(challengeKey, attempt), r.usedBy) && hmac.Equal(c.mac(challengeKey, in), r.mac):
			return identity.Verified, nil
		case r.used || !now.Before(r.expiry):
			return identity.Expired, nil
		case r.attempts >= c.opts.MaxAttempts:
			return identity.Exhausted, nil
		case !wellFormed(in, r.digits):
			return identity.Wrong, nil
		}
		result := identity.Wrong
		if hmac.Equal(c.mac(challengeKey, in), r.mac) { // constant time
			r.used, result = true, identity.Verified
			if attempt != "" {
				r.usedBy = c.attemptTag(challengeKey, attempt)
			}
		} else if r.attempts++; r.attempts >= c.opts.MaxAttempts {
			result = identity.Exhausted
		}
		// The record keeps its absolute expiry; the store TTL follows it.
		_, err = c.st.CompareAndSwap(ctx, key, rec.Version, r.encode(), r.expiry.Sub(now))
		if errors.Is(err, store.ErrConflict) {
			continue // a concurrent Check or Issue changed the challenge: decide again
		}
		if err != nil {
			return identity.Wrong, fmt.Errorf("code: updating challenge: %w", err)
		}
		return result, nil
	}
	return identity.Wrong, fmt.Errorf("code: updating challenge: %w", store.ErrConflict)
}

// Cancel ends the challenge: its code stops matching. Cancelling a missing
// challenge is not an error.
func (c *Codes) Cancel(ctx context.Context, challengeKey string) error {
	if err := c.ready(challengeKey); err != nil {
		return err
	}
	if err := c.st.Delete(ctx, storeKey(challengeKey)); err != nil {
		return fmt.Errorf("code: cancelling challenge: %w", err)
	}
	return nil
}

// attemptTag is the keyed tag of the delivery that used a code.
func (c *Codes) attemptTag(challengeKey, attempt string) []byte {
	return c.deliveryTag("resetbot.code.attempt.v1\x00", challengeKey, attempt)
}

// issueTag is the keyed tag of the delivery a code was issued for.
func (c *Codes) issueTag(challengeKey, attempt string) []byte {
	return c.deliveryTag("resetbot.code.issue.v1\x00", challengeKey, attempt)
}

// deliveryTag is a tag of a platform delivery under the HMAC key, bound to
// the challenge and to its purpose, so a store dump holds no delivery ID
// and a tag of one purpose is never taken for another's.
func (c *Codes) deliveryTag(purpose, challengeKey, attempt string) []byte {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte(purpose))
	h.Write([]byte(challengeKey))
	h.Write([]byte{0})
	h.Write([]byte(attempt))
	return h.Sum(nil)[:attemptTagSize]
}

// record is a stored challenge. Layout (big endian):
// format(1) | digits(1) | attempts(1) | used(1) | issued unix ns(8) | expiry unix ns(8) |
// mac(32) | destination fingerprint(16) | [issued-for tag(8), when format is 2] |
// [used-by tag(8), when used is 2] | factor(rest).
// A compact binary form rather than JSON, whose decimal timestamps could
// contain a code's digits by chance and confuse leak sweeps.
type record struct {
	factor   identity.Factor
	digits   int
	attempts int
	used     bool
	issued   time.Time
	expiry   time.Time
	mac      []byte
	dest     []byte
	// usedBy tags the delivery that used the code (CheckAttempt).
	usedBy []byte
	// issuedFor tags the delivery the code was issued and sent for
	// (IssueAttempt), so that delivery retried sends nothing again.
	issuedFor []byte
}

const (
	recordFormat    byte = 1
	recordIssuedFor byte = 2 // the format byte when an issued-for tag follows the fingerprint
	fingerprintSize      = 16
	attemptTagSize       = 8
	usedTagged      byte = 2 // the used byte when a used-by tag follows
	headerSize           = 4 + 8 + 8 + sha256.Size + fingerprintSize
)

func (r record) encode() []byte {
	b := make([]byte, 0, headerSize+len(r.factor))
	used := byte(0)
	if r.used {
		used = 1
		if len(r.usedBy) == attemptTagSize {
			used = usedTagged
		}
	}
	format := recordFormat
	if len(r.issuedFor) == attemptTagSize {
		format = recordIssuedFor
	}
	b = append(b, format, byte(r.digits), byte(min(r.attempts, 255)), used)
	b = binary.BigEndian.AppendUint64(b, uint64(r.issued.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(r.expiry.UnixNano()))
	b = append(b, r.mac...)
	b = append(b, r.dest...)
	if format == recordIssuedFor {
		b = append(b, r.issuedFor...)
	}
	if used == usedTagged {
		b = append(b, r.usedBy...)
	}
	return append(b, r.factor...)
}

func decode(b []byte) (record, error) {
	if len(b) < headerSize || (b[0] != recordFormat && b[0] != recordIssuedFor) {
		return record{}, errors.New("code: corrupt challenge record")
	}
	rest := b[headerSize:]
	var usedBy, issuedFor []byte
	if b[0] == recordIssuedFor {
		if len(rest) < attemptTagSize {
			return record{}, errors.New("code: corrupt challenge record")
		}
		issuedFor, rest = rest[:attemptTagSize], rest[attemptTagSize:]
	}
	if b[3] == usedTagged {
		if len(rest) < attemptTagSize {
			return record{}, errors.New("code: corrupt challenge record")
		}
		usedBy, rest = rest[:attemptTagSize], rest[attemptTagSize:]
	}
	r := record{
		digits:    int(b[1]),
		attempts:  int(b[2]),
		used:      b[3] == 1 || b[3] == usedTagged,
		usedBy:    usedBy,
		issuedFor: issuedFor,
		issued:    time.Unix(0, int64(binary.BigEndian.Uint64(b[4:12]))),
		expiry:    time.Unix(0, int64(binary.BigEndian.Uint64(b[12:20]))),
		mac:       b[20 : 20+sha256.Size],
		dest:      b[20+sha256.Size : headerSize],
		factor:    identity.Factor(rest),
	}
	return r, nil
}
