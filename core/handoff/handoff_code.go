package handoff

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// IssueCode makes a one-time phone handoff code for handoff id: CodeDigits
// decimal digits from the random source, valid CodeTTL, single use. Only its
// HMAC is stored; issuing a new code kills the previous one. It returns
// ErrNotFound, or ErrFinal for a finished or expired handoff.
func (s *Store) IssueCode(ctx context.Context, id string) (secret.String, time.Time, error) {
	h, err := s.Get(ctx, id)
	if err != nil {
		return secret.String{}, time.Time{}, err
	}
	if h.Status.Terminal() {
		return secret.String{}, time.Time{}, ErrFinal
	}
	code, mac, err := s.reserveCode(ctx, id)
	if err != nil {
		return secret.String{}, time.Time{}, err
	}
	var old string
	r, err := s.mutate(ctx, id, func(r *record) error {
		if r.H.Status.Terminal() {
			return ErrFinal
		}
		old, r.CodeMAC = r.CodeMAC, mac
		return nil
	})
	if err != nil {
		_ = s.st.Delete(ctx, codePrefix+mac) // never leave a code without its handoff
		return secret.String{}, time.Time{}, err
	}
	if old != "" && old != mac {
		if err := s.st.Delete(ctx, codePrefix+old); err != nil {
			// The old code still fails at redemption (its MAC no longer matches).
			s.opts.Log.Warn("old handoff code not deleted", "handoff", id, "err", err)
		}
	}
	s.audit(ctx, r.H, audit.Event{Name: NameCodeIssued, Outcome: audit.OutcomeSuccess,
		Fields: map[string]string{"digits": fmt.Sprint(s.opts.CodeDigits)}})
	return code, s.opts.Clock().Add(s.opts.CodeTTL).UTC(), nil
}

// reserveCode draws a code whose MAC is not in use and binds it to id.
func (s *Store) reserveCode(ctx context.Context, id string) (secret.String, string, error) {
	for range 8 {
		code, err := digits(s.opts.Rand, s.opts.CodeDigits)
		if err != nil {
			return secret.String{}, "", err
		}
		mac := s.mac(code)
		_, err = s.st.CompareAndSwap(ctx, codePrefix+mac, 0, []byte(id), s.opts.CodeTTL)
		if errors.Is(err, store.ErrConflict) {
			continue // another live code has these digits: draw again
		}
		if err != nil {
			return secret.String{}, "", fmt.Errorf("handoff: store code: %w", err)
		}
		return code, mac, nil
	}
	return secret.String{}, "", errors.New("handoff: no free code found")
}

// RedeemCode consumes a phone handoff code and returns its handoff. A wrong,
// expired, replaced or already used code gives false with no error (and
// counts against the shared budget of wrong codes); ErrThrottled means that
// budget is spent for the current window, and err otherwise means the store
// failed. Redeeming identifies the account only: the flow still verifies.
func (s *Store) RedeemCode(ctx context.Context, code secret.String) (Handoff, bool, error) {
	fails, err := s.st.Incr(ctx, codeFailKey, 0, s.opts.CodeTTL)
	if err != nil {
		return Handoff{}, false, fmt.Errorf("handoff: code throttle: %w", err)
	}
	if fails >= int64(s.opts.MaxCodeFailures) {
		s.write(ctx, audit.Event{Name: NameCodeRedeemed, Flow: "handoff",
			Outcome: audit.OutcomeDenied, Reason: "throttled"})
		return Handoff{}, false, ErrThrottled
	}
	if !s.codeShape(code) {
		return s.wrongCode(ctx, "malformed")
	}
	mac := s.mac(code)
	rec, err := s.st.Take(ctx, codePrefix+mac)
	if errors.Is(err, store.ErrNotFound) {
		return s.wrongCode(ctx, "no_match")
	}
	if err != nil {
		return Handoff{}, false, fmt.Errorf("handoff: take code: %w", err)
	}
	id := string(rec.Value)
	if s.isOverdue(ctx, id) {
		if _, err := s.expire(ctx, id); err != nil && !errors.Is(err, ErrFinal) {
			return Handoff{}, false, err
		}
	}
	matched := false
	r, err := s.mutate(ctx, id, func(r *record) error {
		matched = !r.H.Status.Terminal() && r.CodeMAC != "" && hmac.Equal([]byte(r.CodeMAC), []byte(mac))
		if !matched {
			return errUnchanged
		}
		r.CodeMAC = "" // single use
		return nil
	})
	if errors.Is(err, ErrNotFound) || (err == nil && !matched) {
		return s.wrongCode(ctx, "stale")
	}
	if err != nil {
		return Handoff{}, false, err
	}
	s.audit(ctx, r.H, audit.Event{Name: NameCodeRedeemed, Outcome: audit.OutcomeSuccess})
	return r.H, true, nil
}

// wrongCode counts a wrong code and audits it without the typed value.
func (s *Store) wrongCode(ctx context.Context, reason string) (Handoff, bool, error) {
	if _, err := s.st.Incr(ctx, codeFailKey, 1, s.opts.CodeTTL); err != nil {
		return Handoff{}, false, fmt.Errorf("handoff: code throttle: %w", err)
	}
	s.write(ctx, audit.Event{Name: NameCodeRedeemed, Flow: "handoff",
		Outcome: audit.OutcomeFailure, Reason: reason})
	return Handoff{}, false, nil
}

func (s *Store) codeShape(code secret.String) bool {
	v := code.Reveal()
	if len(v) != s.opts.CodeDigits {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// mac is the hex HMAC-SHA256 of a code under the store's key. A plain hash
// of 10 digits would be reversed by trying all 10¹⁰ of them.
func (s *Store) mac(code secret.String) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("handoff-code\x00"))
	m.Write([]byte(code.Reveal()))
	return hex.EncodeToString(m.Sum(nil))
}

// digits returns n uniformly random decimal digits (rejection sampling, so
// no digit is more likely than another).
func digits(r io.Reader, n int) (secret.String, error) {
	out := make([]byte, 0, n)
	var buf [16]byte
	for len(out) < n {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return secret.String{}, fmt.Errorf("handoff: random: %w", err)
		}
		for _, b := range buf {
			if b < 250 && len(out) < n {
				out = append(out, '0'+b%10)
			}
		}
	}
	return secret.New(string(out)), nil
}
