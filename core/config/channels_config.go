package config

// ChannelsConfig enables the chat and phone channels.
type ChannelsConfig struct {
	Slack  SlackConfig  `yaml:"slack"`
	Teams  TeamsConfig  `yaml:"teams"`
	Twilio TwilioConfig `yaml:"twilio"`
}

func (v *validator) channels(c *ChannelsConfig, publicURL string) {
	v.slack(c.Slack, publicURL)
	v.teams(c.Teams, publicURL)
	v.twilio(c.Twilio, publicURL)
}

func (v *validator) e164(p, n string) {
	if n == "" {
		return
	}
	ok := len(n) >= 8 && len(n) <= 16 && n[0] == '+'
	for _, r := range n[1:] {
		ok = ok && r >= '0' && r <= '9'
	}
	if !ok {
		v.errorf(p, "must be an E.164 number such as +15551234567")
	}
}
