package mattermost

// EnrollPage reports that Mattermost shows an authenticator enrollment as a
// link to the one-time page, always: its QR code and setup key never enter a
// post (core/channel.PageUser). The composition root builds the pages when
// this channel is enabled.
func (c *Config) EnrollPage() bool { return true }

// ChannelEnabled reports whether channels.mattermost.enabled is set.
func (c *Config) ChannelEnabled() bool { return c.Enabled }
