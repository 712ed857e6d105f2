package config_test

import (
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/internal/configtest"
	"github.com/resetbot/resetbot/plugins"
)

// TestExpiryRemindersConfig: thresholds, interval, cap, the e-mail path and
// reachability are validated with the path of the setting.
func TestExpiryRemindersConfig(t *testing.T) {
	slack := "mode: demo\nserver: {public_url: \"https://resetbot.test\"}\nchannels:\n  slack:\n    enabled: true\n" +
		"    bot_token: xoxb-1\n    signing_secret: s\n"
	base := slack + "outreach:\n  expiry:\n    enabled: true\n"
	configtest.CheckSection(t, plugins.All, base, "outreach", []configtest.Case{
		{"defaults", "", ""},
		{"custom thresholds", "    thresholds_days: [30, 10, 3, 1]\n", ""},
		{"zero days", "    thresholds_days: [7, 0]\n", "outreach.expiry.thresholds_days[1]"},
		{"over a year", "    thresholds_days: [400]\n", "outreach.expiry.thresholds_days[0]"},
		{"twice", "    thresholds_days: [7, 7]\n", "outreach.expiry.thresholds_days[1]"},
		{"empty list", "    thresholds_days: []\n", "outreach.expiry.thresholds_days"},
		{"interval too short", "    interval: 30s\n", "outreach.expiry.interval"},
		{"no cap", "    max_per_run: 0\n", "outreach.expiry.max_per_run"},
		{"email without link", "    email: true\n", "outreach.expiry.change_url"},
		{"email with http link", "    email: true\n    change_url: http://x.example\n", "outreach.expiry.change_url"},
		{"quiet hours checked", "  quiet_hours: {start: \"25:00\", end: \"07:00\", time_zone: UTC}\n", "outreach.quiet_hours.start"},
	})
	configtest.CheckSection(t, plugins.All, "mode: demo\noutreach:\n  expiry:\n    enabled: true\n", "outreach", []configtest.Case{
		{"nobody reachable", "", "outreach.expiry.enabled"},
		{"email only", "    email: true\n    change_url: https://slack.com/app_redirect?app=A1\nnotify: {outbox: true}\n", ""},
	})
	cfg, _ := config.Parse([]byte(base), nil, plugins.All()) // other sections' problems do not matter here
	if cfg == nil {
		t.Fatal("no configuration parsed")
	}
	got := cfg.Outreach.Expiry.Thresholds()
	if len(got) != 3 || got[0] != 14*24*time.Hour || got[2] != 24*time.Hour {
		t.Fatalf("default thresholds = %v, want 14, 7, 1 days", got)
	}
}
