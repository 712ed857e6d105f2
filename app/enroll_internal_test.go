package app

import (
	"context"
	"testing"

	"github.com/resetbot/resetbot/bot/mattermost"
	"github.com/resetbot/resetbot/bot/slack"
	"github.com/resetbot/resetbot/bot/teams"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/plugin"
	ivrtwilio "github.com/resetbot/resetbot/ivr/twilio"
	"github.com/resetbot/resetbot/plugins"
)

// TestPagesFollowTheChannelsSettings: the enrollment pages are wanted when
// an enabled channel's settings say it shows enrollments through them
// (channel.PageUser), whatever the channel is called: a Mattermost-only
// section wants them, a disabled Mattermost block or a Slack that shows
// enrollments in the chat does not.
func TestPagesFollowTheChannelsSettings(t *testing.T) {
	mm := func(on bool) plugin.Config {
		c := mattermost.NewConfig().(*mattermost.Config)
		c.Enabled = on
		return c
	}
	slackChat := &slack.Config{Enabled: true, EnrollDelivery: slack.EnrollDeliveryChat}
	for _, c := range []struct {
		name   string
		blocks map[string]plugin.Config
		want   bool
	}{
		{"nothing enabled", nil, false},
		{"mattermost only", map[string]plugin.Config{"mattermost": mm(true)}, true},
		{"mattermost disabled", map[string]plugin.Config{"mattermost": mm(false)}, false},
		{"slack in the chat, mattermost off", map[string]plugin.Config{"slack": slackChat, "mattermost": mm(false)}, false},
		{"slack in the chat, mattermost on", map[string]plugin.Config{"slack": slackChat, "mattermost": mm(true)}, true},
		{"teams by page", map[string]plugin.Config{"teams": &teams.Config{Enabled: true}}, true},
		{"teams by page but disabled", map[string]plugin.Config{"teams": &teams.Config{EnrollDelivery: teams.EnrollDeliveryPage}}, false},
		{"slack by page", map[string]plugin.Config{"slack": &slack.Config{Enabled: true}}, true},
		{"twilio only", map[string]plugin.Config{"twilio": &ivrtwilio.Settings{Enabled: true}}, false},
	} {
		if got := usesPages(&config.ChannelsConfig{Plugins: c.blocks}); got != c.want {
			t.Errorf("%s: pages wanted = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestBuildMakesPagesForPageUsers: Build makes the pages exactly when a
// channel uses them and a public URL is set.
func TestBuildMakesPagesForPageUsers(t *testing.T) {
	for _, c := range []struct {
		name      string
		mutate    func(*config.Config)
		wantPages bool
	}{
		{"slack by page", func(c *config.Config) { setSlack(c, &slack.Config{Enabled: true}) }, true},
		{"slack in the chat", func(c *config.Config) {
			setSlack(c, &slack.Config{Enabled: true, EnrollDelivery: slack.EnrollDeliveryChat})
		}, false},
		{"no public url", func(c *config.Config) { setSlack(c, &slack.Config{Enabled: true}); c.Server.PublicURL = "" }, false},
	} {
		cfg := config.Default(plugins.All())
		cfg.Server.PublicURL = "https://resetbot.test"
		c.mutate(cfg)
		a, err := Build(context.Background(), cfg, Options{Floor: -1})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := a.EnrollPages != nil; got != c.wantPages {
			t.Errorf("%s: pages built = %v, want %v", c.name, got, c.wantPages)
		}
		_ = a.Close()
	}
}

// setSlack makes s the configuration's channels.slack block.
func setSlack(c *config.Config, s *slack.Config) {
	c.Channels.Plugins = map[string]plugin.Config{"slack": s}
}
