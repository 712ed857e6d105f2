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

// blocks is a channels section shaped like the one the plug-in registry
// fills: built-in fields beside a map of channels.<type> blocks decoded into
// each plug-in's own settings.
type blocks struct {
	Slack  slack.Config
	Teams  teams.Config
	Blocks map[string]plugin.Config
}

// pageOnly is a channel's settings that use the pages but cannot say
// whether they are enabled.
type pageOnly struct{}

func (pageOnly) Validate(plugin.Checker, string) {}
func (pageOnly) EnrollPage() bool                { return true }

// TestPagesFollowTheChannelsSettings: the enrollment pages are wanted when
// an enabled channel's settings say it shows enrollments through them
// (channel.PageUser), whatever the channel is called: a Mattermost-only
// section wants them, a disabled Mattermost block or a Slack that shows
// enrollments in the chat does not.
func TestPagesFollowTheChannelsSettings(t *testing.T) {
	mm := func(on bool) map[string]plugin.Config {
		c := mattermost.NewConfig().(*mattermost.Config)
		c.Enabled = on
		return map[string]plugin.Config{"mattermost": c, "off": nil}
	}
	slackChat := slack.Config{Enabled: true, EnrollDelivery: slack.EnrollDeliveryChat}
	for _, c := range []struct {
		name    string
		section any
		want    bool
	}{
		{"nothing enabled", &blocks{}, false},
		{"mattermost only", &blocks{Blocks: mm(true)}, true},
		{"mattermost disabled", &blocks{Blocks: mm(false)}, false},
		{"slack in the chat, mattermost off", &blocks{Slack: slackChat, Blocks: mm(false)}, false},
		{"slack in the chat, mattermost on", &blocks{Slack: slackChat, Blocks: mm(true)}, true},
		{"a page user that cannot say it is enabled", &blocks{Blocks: map[string]plugin.Config{"x": pageOnly{}}}, true},
		{"teams by page", &blocks{Teams: teams.Config{Enabled: true}}, true},
		{"teams by page but disabled", &blocks{Teams: teams.Config{EnrollDelivery: teams.EnrollDeliveryPage}}, false},
		{"the real section, slack by page", &config.ChannelsConfig{Plugins: map[string]plugin.Config{"slack": &slack.Config{Enabled: true}}}, true},
		{"the real section, twilio only", &config.ChannelsConfig{Plugins: map[string]plugin.Config{"twilio": &ivrtwilio.Settings{Enabled: true}}}, false},
	} {
		if got := usesPages(c.section); got != c.want {
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
