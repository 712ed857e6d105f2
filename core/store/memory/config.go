package memory

import (
	"context"
	"errors"
	"strings"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/store"
)

// Config is the memory store's configuration (store.type: memory). It has
// no settings: state lives in the process, is lost on restart and is not
// shared by replicas, so the memory store exists for the demo only.
type Config struct{}

// NewConfig is the memory store's registry entry (store.type: memory).
func NewConfig() plugin.Config { return &Config{} }

var _ store.Opener = (*Config)(nil)

// Validate refuses the memory store in production. The problem is reported
// at the type setting that selected it (store.type).
func (c *Config) Validate(ck plugin.Checker, path string) {
	if ck.Production() {
		ck.Errorf(typePath(path), "memory is the demo store and cannot be used in production; choose bolt or redis")
	}
}

// Open returns an empty store, and refuses to in production even if
// validation was bypassed.
func (c *Config) Open(_ context.Context, deps store.Deps) (store.Store, error) {
	if deps.Production {
		return nil, errors.New("the memory store exists only in demo mode")
	}
	var opts []Option
	if deps.Clock != nil {
		opts = append(opts, WithClock(deps.Clock))
	}
	return New(opts...), nil
}

// typePath is the type setting beside the block at path ("store.memory" →
// "store.type").
func typePath(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i] + ".type"
	}
	return "type"
}
