package config

import (
	"regexp"
	"strings"
	"time"
)

// ChatDestination is a chat channel resetbot posts to (alarms, the monthly
// summary), through the adapter's help-desk posting.
type ChatDestination struct {
	// Channel is the chat channel's engine name ("slack", "teams",
	// "mattermost"): an enabled channel that can post to a conversation.
	Channel string `yaml:"channel"`
	// Target is the conversation in the platform's form: a Slack channel
	// ID (C0123ABCD), a Teams channel's conversation ID
	// (19:...@thread.tacv2), a Mattermost channel ID.
	Target string `yaml:"target"`
}

// ReportConfig sets the ROI report's prices and the service's side of it:
// the adoption count and the monthly summary (docs/report.md).
type ReportConfig struct {
	// Ratings asks "was this easy?" after a completed reset, unlock or
	// enrollment (buttons in chat, one key on the phone; optional).
	Ratings bool `yaml:"ratings"`
	// CostPerTicket is what one help-desk reset or unlock ticket costs, for
	// the estimated saving; Currency labels it.
	CostPerTicket float64 `yaml:"cost_per_ticket"`
	Currency      string  `yaml:"currency"`
	// AdoptionInterval is how often the service counts the users in scope
	// and those enrolled (a directory listing and one store read per user).
	AdoptionInterval time.Duration `yaml:"adoption_interval"`
	// AdoptionMaxUsers bounds that count; beyond it the count is marked
	// truncated.
	AdoptionMaxUsers int `yaml:"adoption_max_users"`
	// Monthly posts last month's report to a chat channel; off while
	// Monthly.Channel is empty.
	Monthly MonthlyConfig `yaml:"monthly"`
}

// MonthlyConfig is the monthly summary's destination and time.
type MonthlyConfig struct {
	// Channel and Target as in ChatDestination.
	Channel string `yaml:"channel"`
	Target  string `yaml:"target"`
	// Day (1-28) and Hour (0-23, UTC) say when in the month it is posted.
	Day  int `yaml:"day"`
	Hour int `yaml:"hour"`
}

// Destination returns where the summary is posted.
func (m MonthlyConfig) Destination() ChatDestination {
	return ChatDestination{Channel: m.Channel, Target: m.Target}
}

func defaultReport() ReportConfig {
	return ReportConfig{Ratings: true, AdoptionInterval: 6 * time.Hour, AdoptionMaxUsers: 200000,
		Monthly: MonthlyConfig{Day: 1, Hour: 9}}
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

func (v *validator) report(r *ReportConfig, ch *ChannelsConfig) {
	const p = "report"
	if r.CostPerTicket < 0 {
		v.errorf(p+".cost_per_ticket", "must not be negative")
	}
	if r.Currency != "" && !currencyCode.MatchString(r.Currency) {
		v.errorf(p+".currency", "must be an ISO 4217 code such as USD or EUR")
	}
	if r.AdoptionInterval < time.Minute {
		v.errorf(p+".adoption_interval", "must be at least 1m (each count lists the directory)")
	}
	if r.AdoptionMaxUsers < 1 || r.AdoptionMaxUsers > 10_000_000 {
		v.errorf(p+".adoption_max_users", "must be between 1 and 10000000")
	}
	if r.Monthly.Channel != "" {
		v.chatDestination(p+".monthly", r.Monthly.Destination(), ch)
	}
	if r.Monthly.Day < 1 || r.Monthly.Day > 28 {
		v.errorf(p+".monthly.day", "must be between 1 and 28 (every month has it)")
	}
	if r.Monthly.Hour < 0 || r.Monthly.Hour > 23 {
		v.errorf(p+".monthly.hour", "must be between 0 and 23 (UTC)")
	}
}

// chatDestination checks a channel to post to: an enabled channel that can
// post to a named conversation (ChatTargetChecker), and a target in its
// platform's form.
func (v *validator) chatDestination(p string, d ChatDestination, ch *ChannelsConfig) {
	b, ok := v.findChannel(ch, d.Channel)
	t, posts := b.Channel.(ChatTargetChecker)
	if !ok || !posts {
		v.errorf(p+".channel", "must be a chat channel: %s", strings.Join(channelNames(v.reg, canPost), ", "))
		return
	}
	if !b.ChannelEnabled() {
		v.errorf(p+".channel", "%s is not enabled (channels.%s.enabled)", d.Channel, b.Key)
	}
	if msg := t.CheckChatTarget(d.Target); msg != "" {
		v.errorf(p+".target", "%s", msg)
	}
}
