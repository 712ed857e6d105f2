package plugin

import (
	"errors"
	"fmt"
	"os"
)

// Problem is one problem a configuration reported to Check.
type Problem struct {
	Path, Message string
	// Warning is true for a problem that does not stop the service.
	Warning bool
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// Problems are the problems Check collected, in the order reported.
type Problems []Problem

// Err joins the errors (not the warnings) into one error, or returns nil.
func (ps Problems) Err() error {
	var errs []error
	for _, p := range ps {
		if !p.Warning {
			errs = append(errs, errors.New(p.String()))
		}
	}
	return errors.Join(errs...)
}

// Check validates cfg on its own, outside a configuration load: when a
// plug-in is opened from Go code (tests, embedding) or when Open re-checks
// the value it was given, so that it runs the very validation check-config
// runs instead of a second, drifting copy. Given reports false for every
// path; files are looked up on the local file system.
func Check(cfg Config, path string, production bool) Problems {
	c := &collector{production: production}
	cfg.Validate(c, path)
	return c.probs
}

// collector is the Checker behind Check.
type collector struct {
	production bool
	probs      Problems
}

func (c *collector) Errorf(path, format string, args ...any) {
	c.probs = append(c.probs, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *collector) Warnf(path, format string, args ...any) {
	c.probs = append(c.probs, Problem{Path: path, Message: fmt.Sprintf(format, args...), Warning: true})
}

func (c *collector) Given(string) bool { return false }

func (c *collector) Production() bool { return c.production }

func (c *collector) FileExists(path, file string) {
	if file == "" {
		return
	}
	switch fi, err := os.Stat(file); {
	case err != nil:
		c.Errorf(path, "file %q does not exist or cannot be read", file)
	case fi.IsDir():
		c.Errorf(path, "%q is a directory, not a file", file)
	}
}
