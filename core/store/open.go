package store

import (
	"context"
	"time"

	"github.com/resetbot/resetbot/core/plugin"
)

// Deps are what a store plug-in may need to open, beyond its own settings.
type Deps struct {
	// Clock reads the time for expiry (time.Now when nil).
	Clock func() time.Time
	// Production is true outside demo mode: the memory store refuses to open.
	Production bool
}

// Opener is a store plug-in's configuration (store.<type>): the
// configuration framework decodes and validates it, and the composition root
// opens the store from the same value. The caller closes the store if it is
// an io.Closer.
type Opener interface {
	plugin.Config
	Open(ctx context.Context, deps Deps) (Store, error)
}
