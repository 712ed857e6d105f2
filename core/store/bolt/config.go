package bolt

import (
	"context"
	"os"
	"path/filepath"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/store"
)

// Config is the bbolt store's configuration (store.bolt): one file on one
// node.
type Config struct {
	// Path is the database file; its directory must exist.
	Path string `yaml:"path"`
}

// NewConfig is the bbolt store's registry entry (store.type: bolt).
func NewConfig() plugin.Config { return &Config{} }

var _ store.Opener = (*Config)(nil)

// Validate reports a missing path or a directory that does not exist.
func (c *Config) Validate(ck plugin.Checker, path string) {
	if c.Path == "" {
		ck.Errorf(path+".path", "is required when store.type is bolt")
		return
	}
	// The file is created on first start; its directory must exist.
	if dir := filepath.Dir(c.Path); !isDir(dir) {
		ck.Errorf(path+".path", "directory %q does not exist", dir)
	}
}

func isDir(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// Open validates c and opens (or creates) the file.
func (c *Config) Open(_ context.Context, deps store.Deps) (store.Store, error) {
	if err := plugin.Check(c, "store.bolt", deps.Production).Err(); err != nil {
		return nil, err
	}
	var opts []Option
	if deps.Clock != nil {
		opts = append(opts, WithClock(deps.Clock))
	}
	return Open(c.Path, opts...)
}
