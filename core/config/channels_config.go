package config

import (
	"slices"
	"sort"

	"github.com/resetbot/resetbot/core/plugin"
)

// ChannelsConfig enables the chat and phone channels.
type ChannelsConfig struct {
	// Plugins are the channel plug-ins' own blocks (channels.slack,
	// channels.teams, channels.mattermost, channels.twilio: the phone, whose
	// account also sends SMS and code calls), each decoded into, validated by
	// and opened from its plug-in's own type. A channel left out of the
	// file is not in the map, and is off.
	Plugins map[string]plugin.Config `yaml:",inline" plugin:"channel"`
}

// Channel is what the configuration needs to know about a channel plug-in's
// block to check the sections that name channels (factors.require, alarm
// and report destinations, outreach and expiry channels, escalations). A
// channel plug-in's configuration implements it, and any of the optional
// interfaces below that its platform supports; the names come from the
// registered blocks, so no section here lists the chat platforms.
type Channel interface {
	plugin.Config
	// ChannelName is the channel's engine name (core/channel.Channel.Name):
	// "slack", the phone's "voice". It may differ from the block's key.
	ChannelName() string
	// ChannelEnabled reports whether the block turns the channel on.
	ChannelEnabled() bool
}

// ChatTargetChecker is a channel that can post plain text into a named
// conversation (alarms.destinations, report.monthly): CheckChatTarget says
// what is wrong with a target, or "" when it is one of the platform's
// conversation IDs.
type ChatTargetChecker interface {
	CheckChatTarget(target string) string
}

// HelpDeskTargeter is a channel that posts escalation packets into a
// help-desk conversation of its own block (channels.<key>.help_desk_channel);
// HelpDeskTarget is "" when none is set.
type HelpDeskTargeter interface {
	HelpDeskTarget() string
}

// OutreachCapable is a channel that can reach a person first with a direct
// message (outreach notices, expiry reminders).
type OutreachCapable interface {
	OutreachCapable() bool
}

// Transferrer is a channel that hands a person to the help desk itself
// (the phone transfers the call): Transfer names the setting below the
// block (help_desk_number) and its value, "" when none is set. Without
// one, and without an escalation packet destination, a production
// configuration is refused.
type Transferrer interface {
	Transfer() (setting, target string)
}

// EffectiveConfig is a plug-in block whose adapter applies defaults at use
// (zero values accepted): Effective returns a copy with them filled in, so
// that `check-config -summary` shows the values in force.
type EffectiveConfig interface {
	Effective() plugin.Config
}

// ChannelBlock is a channel plug-in's block and its key (channels.<key>).
type ChannelBlock struct {
	Key string
	Channel
}

// Enabled returns the enabled channel plug-in blocks in key order (the
// order the channels are opened in).
func (c *ChannelsConfig) Enabled() []ChannelBlock {
	var out []ChannelBlock
	for _, b := range c.blocks() {
		if b.ChannelEnabled() {
			out = append(out, b)
		}
	}
	return out
}

// blocks returns the channel plug-in blocks, in key order.
func (c *ChannelsConfig) blocks() []ChannelBlock {
	var out []ChannelBlock
	for key, cfg := range c.Plugins {
		if ch, ok := cfg.(Channel); ok {
			out = append(out, ChannelBlock{key, ch})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// findChannel returns the channel whose engine name is name: the file's
// block, or else the registered plug-in with its defaults (not enabled).
func (v *validator) findChannel(c *ChannelsConfig, name string) (ChannelBlock, bool) {
	for _, b := range c.blocks() {
		if b.ChannelName() == name {
			return b, true
		}
	}
	for _, b := range registeredChannels(v.reg) {
		if b.ChannelName() == name {
			return b, true
		}
	}
	return ChannelBlock{}, false
}

// registeredChannels are the registered channel plug-ins' blocks with their
// defaults (whether the file has them or not), in key order: the names a
// section may use.
func registeredChannels(reg plugin.Registry) []ChannelBlock {
	var out []ChannelBlock
	for _, typ := range reg.Types(plugin.Channel) {
		cfg, _ := reg.New(plugin.Channel, typ)
		if ch, ok := cfg.(Channel); ok {
			out = append(out, ChannelBlock{typ, ch})
		}
	}
	return out
}

// channelNames lists the engine names of the registered channels that
// satisfy keep (nil: all), sorted.
func channelNames(reg plugin.Registry, keep func(Channel) bool) []string {
	var names []string
	for _, nc := range registeredChannels(reg) {
		if keep == nil || keep(nc.Channel) {
			names = append(names, nc.ChannelName())
		}
	}
	slices.Sort(names)
	return names
}

func canPost(c Channel) bool { _, ok := c.(ChatTargetChecker); return ok }

func canReach(c Channel) bool {
	o, ok := c.(OutreachCapable)
	return ok && o.OutreachCapable()
}

// PublicURL lets plug-ins that serve webhooks or pages check what they
// need of server.public_url (plugin.PublicURLChecker).
func (c checker) PublicURL() string { return c.v.publicURL }
