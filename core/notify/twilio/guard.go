package twilio

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// DefaultMaxPerHour is the provider budget when none is configured.
const DefaultMaxPerHour = 500

// Guard is the toll-fraud guard every Twilio send passes first: an E.164
// country allow-list and an hourly budget for the whole deployment. It is
// safe for concurrent use; the budget lives in the store so that replicas
// share it.
type Guard struct {
	prefixes []string
	max      int
	st       store.Store
	now      func() time.Time
}

// NewGuard builds a Guard. An empty prefixes list allows only the country of
// from (an E.164 number); max 0 means DefaultMaxPerHour.
func NewGuard(st store.Store, from string, prefixes []string, max int, now func() time.Time) (*Guard, error) {
	if len(prefixes) == 0 {
		cc := CountryCode(from)
		if cc == "" {
			return nil, errors.New("twilio: cannot tell the country of the from number; set allowed_prefixes")
		}
		prefixes = []string{cc}
	}
	for _, p := range prefixes {
		if !PrefixOK(p) {
			return nil, fmt.Errorf("twilio: allowed prefix %q is not + followed by digits", p)
		}
	}
	if max <= 0 {
		max = DefaultMaxPerHour
	}
	if now == nil {
		now = time.Now
	}
	return &Guard{prefixes: prefixes, max: max, st: st, now: now}, nil
}

// Allowed reports whether to is a well-formed E.164 number in an allowed
// country. It counts nothing.
func (g *Guard) Allowed(to string) bool {
	if !PrefixOK(to) || len(to) < 8 {
		return false
	}
	for _, p := range g.prefixes {
		if strings.HasPrefix(to, p) {
			return true
		}
	}
	return false
}

// Take checks the destination and counts one send against the hourly budget.
// It returns ErrCountryNotAllowed or ErrBudget (wrapped) when the send must
// not happen; other errors are store failures (do not send either).
func (g *Guard) Take(ctx context.Context, to string) error {
	if !g.Allowed(to) {
		return ErrCountryNotAllowed
	}
	now := g.now()
	hour := now.Truncate(time.Hour)
	key := "twilio:sends:" + strconv.FormatInt(hour.Unix()/3600, 10)
	ttl := hour.Add(time.Hour).Sub(now) + time.Minute
	n, err := g.st.Incr(ctx, key, 1, ttl)
	if err != nil {
		return fmt.Errorf("twilio: count send: %w", err)
	}
	if n > int64(g.max) {
		if _, err := g.st.Incr(ctx, key, -1, ttl); err != nil {
			return fmt.Errorf("twilio: return send count: %w", err)
		}
		return ErrBudget
	}
	return nil
}

// twoDigitCodes are the ITU country calling codes of two digits; 1 and 7 are
// the only one-digit codes and every other code has three digits.
var twoDigitCodes = map[string]bool{}

func init() {
	for _, c := range strings.Fields("20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 " +
		"51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98") {
		twoDigitCodes[c] = true
	}
}

// CountryCode returns the "+CC" calling-code prefix of an E.164 number, or "".
func CountryCode(e164 string) string {
	if !PrefixOK(e164) || len(e164) < 5 {
		return ""
	}
	d := e164[1:]
	switch {
	case d[0] == '1' || d[0] == '7':
		return "+" + d[:1]
	case twoDigitCodes[d[:2]]:
		return "+" + d[:2]
	default:
		return "+" + d[:3]
	}
}
