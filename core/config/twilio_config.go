package config

import (
	"strings"

	"github.com/resetbot/resetbot/core/secret"
)

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

func (v *validator) twilio(t TwilioConfig, publicURL string) {
	const p = "channels"
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
