package config

import (
	"strings"

	"github.com/resetbot/resetbot/core/secret"
)

// ChannelsConfig enables the chat and phone channels.
type ChannelsConfig struct {
	Slack  SlackConfig  `yaml:"slack"`
	Teams  TeamsConfig  `yaml:"teams"`
	Twilio TwilioConfig `yaml:"twilio"`
}

// SlackConfig configures the Slack app.
type SlackConfig struct {
	Enabled bool `yaml:"enabled"`
	// SigningSecret verifies Events API and interactivity requests.
	SigningSecret secret.String `yaml:"signing_secret"`
	// BotToken (xoxb-) calls the Web API.
	BotToken secret.String `yaml:"bot_token"`
	// AppToken (xapp-) opens Socket Mode connections.
	AppToken   secret.String `yaml:"app_token"`
	SocketMode bool          `yaml:"socket_mode"`
}

// TeamsConfig configures the Microsoft Teams bot.
type TeamsConfig struct {
	Enabled     bool          `yaml:"enabled"`
	AppID       string        `yaml:"app_id"`
	AppPassword secret.String `yaml:"app_password"`
	TenantID    string        `yaml:"tenant_id"`
}

// TwilioConfig configures the Twilio account for the phone channel and SMS.
type TwilioConfig struct {
	// Enabled turns on the IVR (voice) webhooks. SMS sending only needs the
	// credentials.
	Enabled    bool          `yaml:"enabled"`
	AccountSID string        `yaml:"account_sid"`
	AuthToken  secret.String `yaml:"auth_token"`
	// FromNumber is the E.164 number SMS and calls come from.
	FromNumber string `yaml:"from_number"`
	// HelpDeskNumber is where callers are transferred (E.164).
	HelpDeskNumber string `yaml:"help_desk_number"`
}

func (t TwilioConfig) configured() bool {
	return t.AccountSID != "" && !t.AuthToken.Empty() && t.FromNumber != ""
}

func (v *validator) channels(c *ChannelsConfig, publicURL string) {
	const p = "channels"
	if s := c.Slack; s.Enabled {
		if s.BotToken.Empty() {
			v.errorf(p+".slack.bot_token", "is required when slack is enabled")
		}
		if s.SocketMode && s.AppToken.Empty() {
			v.errorf(p+".slack.app_token", "is required with socket_mode")
		}
		if !s.SocketMode && s.SigningSecret.Empty() {
			v.errorf(p+".slack.signing_secret", "is required when slack uses HTTP events")
		}
		if !s.SocketMode && publicURL == "" {
			v.errorf("server.public_url", "is required when slack uses HTTP events")
		}
	}
	if t := c.Teams; t.Enabled {
		if t.AppID == "" {
			v.errorf(p+".teams.app_id", "is required when teams is enabled")
		}
		if t.AppPassword.Empty() {
			v.errorf(p+".teams.app_password", "is required when teams is enabled")
		}
		if t.TenantID == "" {
			v.errorf(p+".teams.tenant_id", "is required when teams is enabled (only your tenant may talk to the bot)")
		}
	}
	t := c.Twilio
	if t.Enabled {
		if t.AccountSID == "" {
			v.errorf(p+".twilio.account_sid", "is required when twilio is enabled")
		}
		if t.AuthToken.Empty() {
			v.errorf(p+".twilio.auth_token", "is required when twilio is enabled")
		}
		if t.FromNumber == "" {
			v.errorf(p+".twilio.from_number", "is required when twilio is enabled")
		}
		if publicURL == "" {
			v.errorf("server.public_url", "is required when twilio is enabled (signatures cover the public URL)")
		}
	}
	if t.AccountSID != "" && !strings.HasPrefix(t.AccountSID, "AC") {
		v.errorf(p+".twilio.account_sid", "must start with AC")
	}
	v.e164(p+".twilio.from_number", t.FromNumber)
	v.e164(p+".twilio.help_desk_number", t.HelpDeskNumber)
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
