package config

import "github.com/resetbot/resetbot/core/secret"

// TeamsConfig configures the Microsoft Teams bot.
type TeamsConfig struct {
	Enabled     bool          `yaml:"enabled"`
	AppID       string        `yaml:"app_id"`
	AppPassword secret.String `yaml:"app_password"`
	TenantID    string        `yaml:"tenant_id"`
}

func (v *validator) teams(t TeamsConfig) {
	const p = "channels"
	if t.Enabled {
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
}
