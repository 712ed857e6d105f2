package directory

import (
	"context"
	"time"
)

// Deps is what the composition root gives a directory plug-in when it opens
// it: nothing more than a backend needs, never the whole configuration.
type Deps struct {
	// Name is the directory's configured name (directories[i].name),
	// copied to User.Directory by backends that set it.
	Name string
	// Demo is true only in demo mode. Demo directories refuse to open
	// without it; the zero Deps is production.
	Demo bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Opener is a directory plug-in's own configuration (the block under
// directories[i].<type>, decoded into the type its registry entry returns):
// it opens the directory it configures. Opening validates but does not
// connect; a Checker proves the connection.
type Opener interface {
	Open(ctx context.Context, deps Deps) (Directory, error)
}
