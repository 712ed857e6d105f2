package regulation

import (
	"errors"
	"fmt"
	"time"
)

// NISTMaxConsecutive is the ceiling on consecutive failures per account set
// by NIST SP 800-63B 5.2.2; MaxConsecutive is never allowed above it.
const NISTMaxConsecutive = 100

// MaxDelay is the longest progressive delay the regulator ever asks for: a
// Slack interaction must be answered within about 3 s and a Twilio webhook
// well under 15 s, so a longer wait would drop the answer (or the call)
// instead of slowing the guesser down. Bans, not delays, stop guessing.
const MaxDelay = 2 * time.Second

// Limits on failed attempts, per key.
type Limits struct {
	// MaxFailures is the hard limit of identity keys (chat identity, caller):
	// attempts per Window, and every MaxFailures consecutive failures start a
	// ban (default 5).
	MaxFailures int
	// AccountMaxFailures is the soft limit of account keys (account per
	// factor, typed login), the same way (default 10, at least MaxFailures):
	// a stranger's wrong codes throttle the stranger long before they pause
	// the owner's account.
	AccountMaxFailures int
	// Window is the fixed window attempts and delays are counted in
	// (default 15 min).
	Window time.Duration
	// Bans are the ban lengths, one per rung: the first ban of a key lasts
	// Bans[0], the next Bans[1], and so on, the last repeating (default
	// 15 min, 1 h, 24 h). Each is at least Window.
	Bans []time.Duration
	// BanTime, when Bans is empty, is the first rung; the defaults after it
	// follow (1 h, 24 h) when longer.
	BanTime time.Duration
	// LevelTTL is how long a key's rung is remembered after its first ban
	// (default 7 days): an attacker coming back within it meets the long bans.
	LevelTTL time.Duration
	// MaxConsecutive consecutive failures without a success pause the key
	// until its consecutive count is forgotten, ConsecutiveTTL after the
	// streak began (default and ceiling 100, NIST 800-63B). Never forever.
	MaxConsecutive int
	// DelayBase is the delay after the first failure of an identity in the
	// window; it doubles with each further one up to DelayMax (defaults
	// 250 ms and 1.5 s; DelayMax never above MaxDelay). A negative DelayBase
	// turns the delay off.
	DelayBase, DelayMax time.Duration
	// ConsecutiveTTL is how long a streak of consecutive failures is counted
	// from its first failure (default 30 days).
	ConsecutiveTTL time.Duration
	// NoticeEvery is the shortest time between two warnings to an account's
	// owner that it is being attacked (default 6 h).
	NoticeEvery time.Duration
}

// Defaults of Limits.
const (
	DefaultMaxFailures        = 5
	DefaultAccountMaxFailures = 10
	DefaultWindow             = 15 * time.Minute
	DefaultBanTime            = 15 * time.Minute
	DefaultLevelTTL           = 7 * 24 * time.Hour
	DefaultMaxConsecutive     = NISTMaxConsecutive
	DefaultDelayBase          = 250 * time.Millisecond
	DefaultDelayMax           = 1500 * time.Millisecond
	DefaultConsecutiveTTL     = 30 * 24 * time.Hour
	DefaultNoticeEvery        = 6 * time.Hour
)

// DefaultBans is the default ban ladder.
var DefaultBans = []time.Duration{15 * time.Minute, time.Hour, 24 * time.Hour}

// Validate reports every out-of-range field, for check-config. New does not
// fail: it applies defaults to zero or negative fields and caps
// MaxConsecutive at NISTMaxConsecutive and DelayMax at MaxDelay.
func (l Limits) Validate() error {
	var errs []error
	if l.MaxFailures < 0 || l.AccountMaxFailures < 0 || l.Window < 0 || l.BanTime < 0 || l.MaxConsecutive < 0 ||
		l.DelayMax < 0 || l.ConsecutiveTTL < 0 || l.LevelTTL < 0 || l.NoticeEvery < 0 {
		errs = append(errs, errors.New("regulation: limits must not be negative"))
	}
	if l.MaxConsecutive > NISTMaxConsecutive {
		errs = append(errs, fmt.Errorf("regulation: max consecutive failures %d is above the NIST ceiling of %d", l.MaxConsecutive, NISTMaxConsecutive))
	}
	if l.MaxFailures > NISTMaxConsecutive || l.AccountMaxFailures > NISTMaxConsecutive {
		errs = append(errs, fmt.Errorf("regulation: max failures per window is above %d", NISTMaxConsecutive))
	}
	if l.DelayBase > 0 && l.DelayMax > 0 && l.DelayMax < l.DelayBase {
		errs = append(errs, errors.New("regulation: max delay is below the base delay"))
	}
	if l.DelayMax > MaxDelay || l.DelayBase > MaxDelay {
		errs = append(errs, fmt.Errorf("regulation: delays above %v would outlast what Slack and Twilio wait for an answer", MaxDelay))
	}
	for _, b := range l.Bans {
		if b <= 0 {
			errs = append(errs, errors.New("regulation: ban lengths must be positive"))
			break
		}
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
	if l.AccountMaxFailures <= 0 {
		l.AccountMaxFailures = max(DefaultAccountMaxFailures, l.MaxFailures)
	}
	l.AccountMaxFailures = max(l.AccountMaxFailures, l.MaxFailures)
	if l.MaxConsecutive <= 0 || l.MaxConsecutive > NISTMaxConsecutive {
		l.MaxConsecutive = DefaultMaxConsecutive
	}
	def(&l.Window, DefaultWindow)
	def(&l.LevelTTL, DefaultLevelTTL)
	def(&l.ConsecutiveTTL, DefaultConsecutiveTTL)
	def(&l.NoticeEvery, DefaultNoticeEvery)
	def(&l.DelayMax, DefaultDelayMax)
	switch {
	case l.DelayBase == 0:
		l.DelayBase = DefaultDelayBase
	case l.DelayBase < 0:
		l.DelayBase, l.DelayMax = 0, 0
	}
	l.DelayBase = min(l.DelayBase, MaxDelay)
	l.DelayMax = min(max(l.DelayMax, l.DelayBase), MaxDelay)
	l.Bans = l.ladder()
	l.BanTime = l.Bans[0]
	return l
}

// ladder returns the ban rungs with defaults applied, each at least Window
// (so the window of a ban's last failures is over when it ends) and no
// shorter than the one before.
func (l Limits) ladder() []time.Duration {
	var bans []time.Duration
	switch {
	case len(l.Bans) > 0:
		bans = append(bans, l.Bans...)
	case l.BanTime > 0:
		bans = append(bans, l.BanTime)
		for _, b := range DefaultBans[1:] {
			if b > l.BanTime {
				bans = append(bans, b)
			}
		}
	default:
		bans = append(bans, DefaultBans...)
	}
	prev := l.Window
	for i, b := range bans {
		bans[i] = max(b, prev)
		prev = bans[i]
	}
	return bans
}

// ban is the length of a key's level-th ban (1-based).
func (l Limits) ban(level int) time.Duration {
	i := min(max(level, 1), len(l.Bans)) - 1
	return l.Bans[i]
}

// delay is the progressive delay after n failures of an identity in the
// window: 0 for none, then DelayBase doubling per failure, capped at
// DelayMax.
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
