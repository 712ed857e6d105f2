package config_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/internal/configtest"
	"github.com/resetbot/resetbot/plugins"
)

// mm is an enabled, valid channels.mattermost block.
const mm = "  mattermost:\n    enabled: true\n    url: https://chat.corp.example\n    bot_token: t\n" +
	"    callback_key: 0123456789abcdef0123456789abcdef\n"

// TestChannelNamesComeFromTheRegistry: the sections that name channels
// accept a channel plug-in that core/config has never heard of (Mattermost,
// which touched only its package and its registry line), according to what
// its block says it can do: post to a conversation (alarms, report), a
// help-desk target (escalations), a name for factors.require; and refuse it
// where it cannot serve (outreach sends direct messages it does not offer).
func TestChannelNamesComeFromTheRegistry(t *testing.T) {
	base := "mode: demo\nserver: {public_url: \"https://resetbot.test\"}\nchannels:\n" + mm
	configtest.CheckSection(t, plugins.All, base, "alarms", []configtest.Case{
		{"mattermost destination", "alarms:\n  destinations: [{channel: mattermost, target: abcdefghijklmnopqrstuvwxyz}]\n", ""},
		{"mattermost target of another platform", "alarms:\n  destinations: [{channel: mattermost, target: C0SECURITY1}]\n",
			"alarms.destinations[0].target"},
		{"slack not enabled", "alarms:\n  destinations: [{channel: slack, target: C0SECURITY1}]\n", "alarms.destinations[0].channel"},
	})
	configtest.CheckSection(t, plugins.All, base, "report", []configtest.Case{
		{"monthly to mattermost", "report:\n  monthly: {channel: mattermost, target: abcdefghijklmnopqrstuvwxyz, day: 2}\n", ""},
	})
	configtest.CheckSection(t, plugins.All, base, "factors.require", []configtest.Case{
		{"per-channel count for mattermost", "factors:\n  require:\n    reset: {default: 2, mattermost: 2}\n", ""},
		{"unknown channel", "factors:\n  require:\n    reset: {default: 2, irc: 2}\n", "factors.require.reset.irc"},
	})
	configtest.CheckSection(t, plugins.All, base, "outreach", []configtest.Case{
		{"mattermost sends no outreach", "outreach:\n  lockout: {enabled: true}\n  channels: [mattermost]\n", "outreach.channels[0]"},
	})
	_, probs := config.Parse([]byte(base+"factors:\n  require:\n    reset: {default: 2, irc: 2}\n"), nil, plugins.All())
	if msg := probs.Error(); !strings.Contains(msg, "known: default, console, mattermost, slack, teams, voice") {
		t.Errorf("the known channels are not the registered ones:\n%s", msg)
	}
}

// TestEscalationsThroughAPluginChannel: in production an enabled chat
// channel needs somewhere to send escalations; a plug-in's own
// help_desk_channel is one.
func TestEscalationsThroughAPluginChannel(t *testing.T) {
	_, sections := fixture(t)
	chans := strings.Replace(sections["channels"], "    help_desk_channel: C0123HELP\n", "", 1)
	for _, c := range []struct {
		name, channels string
		refused        bool
	}{
		{"mattermost without a help desk", chans + mm, true},
		{"mattermost help desk", chans + mm + "    help_desk_channel: abcdefghijklmnopqrstuvwxyz\n", false},
	} {
		_, probs := config.Parse([]byte(render(sections, map[string]string{"channels": c.channels})), nil, plugins.All())
		var refused bool
		for _, p := range probs.Errors() {
			if p.Path == "handoff" {
				refused = strings.Contains(p.Message, "channels.mattermost.help_desk_channel")
			}
		}
		if refused != c.refused {
			t.Errorf("%s: refused %v, want %v\n%s", c.name, refused, c.refused, probs.Error())
		}
	}
}

// TestChannelsEnabled lists the enabled channel blocks in key order.
func TestChannelsEnabled(t *testing.T) {
	reg := plugins.All()
	block := func(typ string, on bool) plugin.Config {
		cfg, _ := config.Parse([]byte("mode: demo\nchannels:\n  "+typ+": {enabled: "+map[bool]string{true: "true", false: "false"}[on]+"}\n"), nil, reg)
		return cfg.Channels.Plugins[typ]
	}
	ch := config.ChannelsConfig{Plugins: map[string]plugin.Config{
		"teams": block("teams", true), "slack": block("slack", false), "mattermost": block("mattermost", true)}}
	var keys []string
	for _, b := range ch.Enabled() {
		keys = append(keys, b.Key+"="+b.ChannelName())
	}
	if got := strings.Join(keys, ","); got != "mattermost=mattermost,teams=teams" {
		t.Errorf("Enabled() = %s", got)
	}
}
