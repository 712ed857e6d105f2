package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// OutreachConfig is resetbot reaching users first (docs/outreach.md): the
// lockout watcher, and what every notice obeys (channels, per-user rate,
// quiet hours, spray waves, the lease that keeps one watcher per cluster).
type OutreachConfig struct {
	Lockout LockoutWatchConfig `yaml:"lockout"`
	// Expiry is the password expiry reminders (expiry_config.go).
	Expiry ExpiryRemindersConfig `yaml:"expiry"`
	// Channels are the chat platforms tried in order to reach a user
	// (those that can send direct messages: slack, teams); each must be
	// enabled under channels. Empty: every enabled one, in the order the
	// channels are opened (by key: slack before teams).
	Channels []string `yaml:"channels"`
	// SMS lets a user who is on no chat platform get the notice as a text
	// message to the directory's mobile number (no buttons: it tells them
	// to ask the bot). Off unless the operator opts in.
	SMS bool `yaml:"sms"`
	// RatePerUser notices per RateWindow per account at most.
	RatePerUser int           `yaml:"rate_per_user"`
	RateWindow  time.Duration `yaml:"rate_window"`
	QuietHours  QuietHours    `yaml:"quiet_hours"`
	Spray       SprayConfig   `yaml:"spray"`
	// LeaseTTL is how long a dead replica's watcher blocks a takeover.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// LockoutWatchConfig configures the lockout watcher.
type LockoutWatchConfig struct {
	Enabled bool `yaml:"enabled"`
	// Interval between polls of each directory.
	Interval time.Duration `yaml:"interval"`
	// MaxAge: lockouts older than this get no notice (first start, catch-up).
	MaxAge time.Duration `yaml:"max_age"`
	// Directories to watch, with optional filters. Empty: every ldap and
	// ad directory, unfiltered.
	Directories []WatchedDirectory `yaml:"directories"`
}

// WatchedDirectory is one watched directory and its filters.
type WatchedDirectory struct {
	// Name is a directories[].name of type ldap or ad.
	Name string `yaml:"name"`
	// Bases are the OUs to watch (inside the directory's base_dn); empty:
	// the whole base_dn.
	Bases []string `yaml:"bases"`
	// Groups limit the watch to members of these groups (AD: nested
	// membership; OpenLDAP: needs the memberOf overlay).
	Groups []string `yaml:"groups"`
}

// QuietHours is when no notice is sent, "22:00" to "07:00" in TimeZone
// (or the user's own zone when the platform knows it). Empty: none.
type QuietHours struct {
	Start    string `yaml:"start"`
	End      string `yaml:"end"`
	TimeZone string `yaml:"time_zone"`
}

// SprayConfig is spray detection over lockouts.
type SprayConfig struct {
	// Accounts locked within Window that make one wave and one alert.
	Accounts int           `yaml:"accounts"`
	Window   time.Duration `yaml:"window"`
	// PerSource lockouts from one source (when the directory tells it).
	PerSource int `yaml:"per_source"`
	// PauseOutreach sends no DM during a wave (pause_outreach_on_spray).
	PauseOutreach bool `yaml:"pause_outreach_on_spray"`
}

func defaultOutreach() OutreachConfig {
	return OutreachConfig{RatePerUser: 3, RateWindow: 24 * time.Hour, LeaseTTL: 10 * time.Second,
		Lockout: LockoutWatchConfig{Interval: 30 * time.Second, MaxAge: 15 * time.Minute},
		Expiry:  defaultExpiryReminders(),
		Spray:   SprayConfig{Accounts: 10, Window: 10 * time.Minute, PerSource: 5, PauseOutreach: true}}
}

// ClockOffset parses "HH:MM" into the time since midnight.
func ClockOffset(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day such as 22:00", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func (v *validator) outreach(o *OutreachConfig, c *Config) {
	const p = "outreach"
	v.expiryReminders(p+".expiry", &o.Expiry, c)
	if !o.Lockout.Enabled {
		if o.Expiry.Enabled {
			// What every notice obeys, reminders included.
			v.leaseAndQuiet(p, o, c)
		}
		return
	}
	if o.Lockout.Interval < time.Second {
		v.errorf(p+".lockout.interval", "must be at least 1s (every poll reads the directory)")
	}
	v.positive(p+".lockout.max_age", o.Lockout.MaxAge)
	v.atLeast(p+".rate_per_user", o.RatePerUser, 1)
	v.positive(p+".rate_window", o.RateWindow)
	if o.LeaseTTL < time.Second {
		v.errorf(p+".lease_ttl", "must be at least 1s")
	}
	v.watched(p+".lockout.directories", o.Lockout.Directories, c.Directories)
	v.outreachChannels(p+".channels", o, c)
	v.quietHours(p+".quiet_hours", o.QuietHours)
	v.atLeast(p+".spray.accounts", o.Spray.Accounts, 2)
	v.positive(p+".spray.window", o.Spray.Window)
	v.atLeast(p+".spray.per_source", o.Spray.PerSource, 2)
}

// lockoutLister is a directory plug-in's configuration whose directory
// lists lockouts (ldap, ad), so the lockout watcher can follow it.
type lockoutLister interface{ ListsLockouts() bool }

// ListsLockouts reports whether the directory's plug-in lists locked
// accounts, so that the lockout watcher can follow it. It asks the plug-in's
// configuration, never the type name: the validator of
// outreach.lockout.directories and the default set of watched directories
// (every directory that lists lockouts) share this one answer.
func (d DirectoryConfig) ListsLockouts() bool {
	ll, ok := d.Plugin.(lockoutLister)
	return ok && ll.ListsLockouts()
}

func (v *validator) watched(p string, ws []WatchedDirectory, dirs []DirectoryConfig) {
	byName := map[string]DirectoryConfig{}
	for _, d := range dirs {
		byName[d.Name] = d
	}
	for i, w := range ws {
		wp := index(p, i)
		d, ok := byName[w.Name]
		switch {
		case !ok:
			v.errorf(wp+".name", "%q is not a configured directory", w.Name)
		case !d.ListsLockouts():
			v.errorf(wp+".name", "directory %q is of type %s: only ldap and ad directories can be watched", w.Name, d.Type)
		}
		for k, dn := range w.Bases {
			if _, err := ldap.ParseDN(dn); err != nil || !strings.Contains(dn, "=") {
				v.errorf(index(wp+".bases", k), "%q is not a DN", dn)
			}
		}
		for k, dn := range w.Groups {
			if _, err := ldap.ParseDN(dn); err != nil || !strings.Contains(dn, "=") {
				v.errorf(index(wp+".groups", k), "%q is not a DN", dn)
			}
		}
	}
}

func (v *validator) outreachChannels(p string, o *OutreachConfig, c *Config) {
	for i, name := range o.Channels {
		v.outreachChannel(index(p, i), name, c, true)
	}
	if !reachesChat(&c.Channels) && !o.SMS {
		v.warnf(p, "no chat channel is enabled and outreach.sms is off: lockout notices reach nobody")
	}
}

// outreachChannel checks one outreach.channels entry: a channel that can
// reach a person first (OutreachCapable), enabled when enabled is asked.
func (v *validator) outreachChannel(p, name string, c *Config, enabled bool) {
	b, ok := v.findChannel(&c.Channels, name)
	switch {
	case !ok || !canReach(b.Channel):
		v.errorf(p, "%q is not a chat channel (%s)", name, strings.Join(channelNames(v.reg, canReach), ", "))
	case enabled && !b.ChannelEnabled():
		v.errorf(p, "channels.%s is not enabled", b.Key)
	}
}

// reachesChat reports whether an enabled channel can reach people first.
func reachesChat(ch *ChannelsConfig) bool {
	for _, b := range ch.Enabled() {
		if canReach(b.Channel) {
			return true
		}
	}
	return false
}

func (v *validator) quietHours(p string, q QuietHours) {
	if q.Start == "" && q.End == "" {
		if q.TimeZone != "" {
			v.warnf(p+".time_zone", "is set without start and end: no quiet hours")
		}
		return
	}
	if _, err := ClockOffset(q.Start); err != nil {
		v.errorf(p+".start", "%v", err)
	}
	if _, err := ClockOffset(q.End); err != nil {
		v.errorf(p+".end", "%v", err)
	}
	if q.TimeZone != "" {
		if _, err := time.LoadLocation(q.TimeZone); err != nil {
			v.errorf(p+".time_zone", "%q is not an IANA time zone such as Europe/Paris", q.TimeZone)
		}
	}
}
