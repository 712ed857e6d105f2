package outbox

import (
	"context"
	"errors"
	"slices"

	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/plugin"
)

// Config is the outbox notifier's configuration, a switch (notify.outbox:
// true): on, every SMS, call and e-mail is captured in memory (and shown on
// the demo's console) instead of being sent. Demo only.
type Config bool

var _ notify.Opener = (*Config)(nil)

// NewConfig is the outbox's registry entry (notify.outbox), off.
func NewConfig() plugin.Config { return new(Config) }

// Validate refuses the outbox in production.
func (c *Config) Validate(ck plugin.Checker, path string) {
	if bool(*c) && ck.Production() {
		ck.Errorf(path, "the outbox never delivers anything and cannot be used in production")
	}
}

// channels are the ones the outbox captures.
var channels = []notify.Channel{notify.ChannelSMS, notify.ChannelVoice, notify.ChannelEmail}

// Delivers reports whether the outbox is on (it then captures SMS, calls and
// e-mail).
func (c *Config) Delivers(ch notify.Channel) bool {
	return bool(*c) && slices.Contains(channels, ch)
}

// Open returns one Sender per channel, all into one new Outbox printing to
// deps.Console; none when the switch is off. It refuses production even if
// validation was bypassed.
func (c *Config) Open(_ context.Context, deps notify.Deps) (map[notify.Channel]notify.Sender, error) {
	if !bool(*c) {
		return nil, nil
	}
	if deps.Production {
		return nil, errors.New("the outbox exists only in demo mode")
	}
	var opts []Option
	if deps.Clock != nil {
		opts = append(opts, WithClock(deps.Clock))
	}
	box := New(deps.Console, opts...)
	out := make(map[notify.Channel]notify.Sender, len(channels))
	for _, ch := range channels {
		out[ch] = box.Sender(ch)
	}
	return out, nil
}
