package regulation

import (
	"errors"
	"fmt"
	"time"
)

// NISTMaxConsecutive is the ceiling on consecutive failures per account set
// by NIST SP 800-63B 5.2.2; MaxConsecutive is never allowed above it.
const NISTMaxConsecutive = 100

// Limits on failed attempts, per key.
type Limits struct {
	// MaxFailures failures within Window start a ban (default 5).
	MaxFailures int
	// Window is the fixed window failures are counted in, starting at the
	// first failure (default 15 min).
	Window time.Duration
	// BanTime is how long a ban lasts (default 15 min). The window starts
	// afresh after a ban.
	BanTime time.Duration
	// MaxConsecutive consecutive failures, across windows and bans, lock the
	// key until Succeed or Reset (default and ceiling 100, NIST 800-63B).
	MaxConsecutive int
	// DelayBase is the delay after the first consecutive failure; it doubles
	// with each further one up to DelayMax (defaults 1 s and 30 s). A
	// negative DelayBase turns the delay off.
	DelayBase, DelayMax time.Duration
	// ConsecutiveTTL is how long a key's record (and so its consecutive
	// count) is kept after its latest failure (default 30 days, at least
	// Window and BanTime). It bounds the store's memory for keys an attacker
	// can invent (caller numbers); a hard-cap lock itself never expires.
	ConsecutiveTTL time.Duration
}

// Defaults of Limits.
const (
	DefaultMaxFailures    = 5
	DefaultWindow         = 15 * time.Minute
	DefaultBanTime        = 15 * time.Minute
	DefaultMaxConsecutive = NISTMaxConsecutive
	DefaultDelayBase      = time.Second
	DefaultDelayMax       = 30 * time.Second
	DefaultConsecutiveTTL = 30 * 24 * time.Hour
)

// Validate reports every out-of-range field, for check-config. New does not
// fail: it applies defaults to zero or negative fields and caps
// MaxConsecutive at NISTMaxConsecutive.
func (l Limits) Validate() error {
	var errs []error
	if l.MaxFailures < 0 || l.Window < 0 || l.BanTime < 0 || l.MaxConsecutive < 0 || l.DelayMax < 0 || l.ConsecutiveTTL < 0 {
		errs = append(errs, errors.New("regulation: limits must not be negative"))
	}
	if l.MaxConsecutive > NISTMaxConsecutive {
		errs = append(errs, fmt.Errorf("regulation: max consecutive failures %d is above the NIST ceiling of %d", l.MaxConsecutive, NISTMaxConsecutive))
	}
	if l.MaxFailures > NISTMaxConsecutive {
		errs = append(errs, fmt.Errorf("regulation: max failures per window %d is above %d", l.MaxFailures, NISTMaxConsecutive))
	}
	if l.DelayBase > 0 && l.DelayMax > 0 && l.DelayMax < l.DelayBase {
		errs = append(errs, errors.New("regulation: max delay is below the base delay"))
	}
	return errors.Join(errs...)
}

func (l Limits) withDefaults() Limits {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxFailures <= 0 {
		l.MaxFailures = DefaultMaxFailures
	}
	if l.MaxConsecutive <= 0 || l.MaxConsecutive > NISTMaxConsecutive {
		l.MaxConsecutive = DefaultMaxConsecutive
	}
	def(&l.Window, DefaultWindow)
	def(&l.BanTime, DefaultBanTime)
	def(&l.DelayMax, DefaultDelayMax)
	def(&l.ConsecutiveTTL, DefaultConsecutiveTTL)
	switch {
	case l.DelayBase == 0:
		l.DelayBase = DefaultDelayBase
	case l.DelayBase < 0:
		l.DelayBase, l.DelayMax = 0, 0
	}
	l.DelayMax = max(l.DelayMax, l.DelayBase)
	l.ConsecutiveTTL = max(l.ConsecutiveTTL, l.Window, l.BanTime)
	return l
}

// delay is the progressive delay after n consecutive failures: 0 for none,
// then DelayBase doubling per failure, capped at DelayMax.
func (l Limits) delay(n int) time.Duration {
	if n <= 0 || l.DelayBase <= 0 {
		return 0
	}
	d := l.DelayBase
	for i := 1; i < n && d < l.DelayMax; i++ {
		d *= 2
	}
	return min(d, l.DelayMax)
}

// SendLimits are hourly budgets for sending codes, in fixed clock-hour windows.
type SendLimits struct {
	// PerDestinationPerHour caps sends to one phone number or address (default 3).
	PerDestinationPerHour int
	// PerUserPerHour caps sends for one directory user (default 5).
	PerUserPerHour int
	// GlobalPerHour caps all sends of the deployment (default 500): the
	// toll-fraud budget. Reaching it should raise an alert.
	GlobalPerHour int
}

// Defaults of SendLimits.
const (
	DefaultPerDestinationPerHour = 3
	DefaultPerUserPerHour        = 5
	DefaultGlobalPerHour         = 500
)

// Validate reports negative budgets, for check-config.
func (s SendLimits) Validate() error {
	if s.PerDestinationPerHour < 0 || s.PerUserPerHour < 0 || s.GlobalPerHour < 0 {
		return errors.New("regulation: send budgets must not be negative")
	}
	return nil
}

func (s SendLimits) withDefaults() SendLimits {
	if s.PerDestinationPerHour <= 0 {
		s.PerDestinationPerHour = DefaultPerDestinationPerHour
	}
	if s.PerUserPerHour <= 0 {
		s.PerUserPerHour = DefaultPerUserPerHour
	}
	if s.GlobalPerHour <= 0 {
		s.GlobalPerHour = DefaultGlobalPerHour
	}
	return s
}
