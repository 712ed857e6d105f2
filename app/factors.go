package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/factor"
	"github.com/resetbot/resetbot/flows"
)

// methods opens the enabled factors through their plug-in blocks, leaving
// out those that are unavailable here (an SMS factor without an SMS
// provider). Security questions are never a factor: they are an extra step
// (flows.Deps.Questions).
func methods(ctx context.Context, cfg *config.Config, d factor.Deps) (*identity.Registry, error) {
	var ms []identity.Method
	for _, name := range cfg.Factors.Enabled {
		if name == config.FactorQuestions {
			continue
		}
		fc, ok := cfg.Factors.Plugins[name].(factor.Config)
		if !ok {
			return nil, fmt.Errorf("factors.enabled: %q is not a factor plug-in", name)
		}
		m, err := fc.Open(ctx, d)
		switch {
		case errors.Is(err, factor.ErrUnavailable):
			continue
		case err != nil:
			return nil, fmt.Errorf("factors.%s: %w", name, err)
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil, errors.New("factors: no usable factor (enabled factors need a configured sender)")
	}
	return identity.NewRegistry(ms...)
}

// voiceResetter is a channel block that says what a reset on the phone does
// (channels.twilio.voice_reset), "" for the flows' default.
type voiceResetter interface{ VoiceResetPolicy() string }

// factorPolicy turns the configured counts and policy into the flows' policy.
func factorPolicy(cfg *config.Config) flows.Policy {
	p := flows.DefaultPolicy()
	for _, key := range slices.Sorted(maps.Keys(cfg.Channels.Plugins)) {
		if v, ok := cfg.Channels.Plugins[key].(voiceResetter); ok && v.VoiceResetPolicy() != "" {
			p.VoiceReset = v.VoiceResetPolicy()
		}
	}
	fp := cfg.Factors.Policy
	p.Strongest, p.PhoneAlone, p.NotifyManager = fp.RequireStrongest, fp.PhoneAlone, fp.NotifyManager
	req := cfg.Factors.Require
	for name, m := range map[string]map[string]int{flows.FlowReset: req.Reset, flows.FlowUnlock: req.Unlock, flows.FlowEnroll: req.Enroll} {
		r := p.Require[name]
		if v, ok := m["default"]; ok {
			r.Default = v
		}
		for ch, v := range m {
			if ch != "default" {
				if r.Channels == nil {
					r.Channels = map[string]int{}
				}
				r.Channels[ch] = v
			}
		}
		p.Require[name] = r
	}
	if cfg.Factors.Has(config.FactorQuestions) {
		for _, name := range cfg.Factors.Questions.AskIn {
			r := p.Require[name]
			r.Questions = true
			p.Require[name] = r
		}
	}
	return p
}

// managers finds managers through a directory that can read an entry by its
// DN; nil when the directory cannot.
func managers(d directory.Directory) flows.Managers {
	if mr, ok := d.(managerReader); ok {
		return managerLookup{mr}
	}
	return nil
}

// managerReader is implemented by directories that resolve a manager DN.
type managerReader interface {
	Manager(ctx context.Context, u directory.User) (directory.User, bool, error)
}

type managerLookup struct{ r managerReader }

func (m managerLookup) Manager(ctx context.Context, u directory.User) (directory.User, bool, error) {
	if u.Manager == "" {
		return directory.User{}, false, nil
	}
	return m.r.Manager(ctx, u)
}
