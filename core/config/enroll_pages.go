package config

// ChannelEnabled reports whether channels.slack.enabled is set: with
// EnrollPage (core/channel.PageUser), what the composition root asks of
// every channel's settings to decide whether to build enrollment pages.
func (s SlackConfig) ChannelEnabled() bool { return s.Enabled }

// ChannelEnabled reports whether channels.teams.enabled is set.
func (t TeamsConfig) ChannelEnabled() bool { return t.Enabled }
