// Package codefactor declares the one-time-code factors (sms, voice, email)
// as factor plug-ins. Their code settings are shared (factors.codes) and
// their service is factor.Deps.Codes; each factor's own block is empty.
package codefactor

import (
	"context"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/code"
	"github.com/resetbot/resetbot/core/identity/factor"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/plugin"
)

// Config is the block of one code factor (factors.sms, factors.voice,
// factors.email). It has no settings of its own.
type Config struct {
	channel notify.Channel
	group   identity.Group
	method  func(*code.Codes) *code.Method
}

// SMS is the factor sending a code by text message.
func SMS() plugin.Config {
	return &Config{channel: notify.ChannelSMS, group: identity.GroupPhone, method: code.SMS}
}

// Voice is the factor reading a code out in a call to the phone of record.
func Voice() plugin.Config {
	return &Config{channel: notify.ChannelVoice, group: identity.GroupPhone, method: code.Voice}
}

// Email is the factor sending a code to the recovery address of record.
func Email() plugin.Config {
	return &Config{channel: notify.ChannelEmail, group: identity.GroupEmail, method: code.Email}
}

// Validate has nothing to check: the code settings are factors.codes.
func (c *Config) Validate(plugin.Checker, string) {}

// Group is the phone for SMS and voice, email for email.
func (c *Config) Group() identity.Group { return c.group }

// Open returns the method, or factor.ErrUnavailable without a sender for
// its channel.
func (c *Config) Open(_ context.Context, d factor.Deps) (identity.Method, error) {
	if d.Senders[c.channel] == nil || d.Codes == nil {
		return nil, factor.ErrUnavailable
	}
	return c.method(d.Codes), nil
}
