package config

import "github.com/resetbot/resetbot/core/secret"

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

func (v *validator) slack(s SlackConfig, publicURL string) {
	const p = "channels"
	if s.Enabled {
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
}
