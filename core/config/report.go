package config

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/plugin"
)

// report collects problems and knows where each setting came from: the YAML
// line of every decoded node, and the environment variable of every override.
type report struct {
	probs   Problems
	lines   map[string]int    // setting path → line of its key (0: not from the file)
	origins map[string]string // setting path → environment variable that set it
	failed  map[string]bool   // paths that already have a decoding problem
}

func newReport() *report {
	return &report{lines: map[string]int{}, origins: map[string]string{}, failed: map[string]bool{}}
}

// add records a problem. A problem about a value that came from the
// environment names the variable instead of a line.
func (r *report) add(path string, line int, warning bool, msg string) {
	if origin, ok := r.origins[path]; ok {
		msg += " (set by " + origin + ")"
		line = 0
	} else if line == 0 {
		line = r.lineOf(path)
	}
	r.probs = append(r.probs, Problem{Path: path, Line: line, Message: msg, Warning: warning})
}

// lineOf returns the line of path or of its closest ancestor found in the file.
func (r *report) lineOf(path string) int {
	for path != "" {
		if l := r.lines[path]; l > 0 {
			return l
		}
		if _, env := r.origins[path]; env {
			return 0
		}
		path = parent(path)
	}
	return 0
}

// given reports whether the file or the environment set path or anything
// below it.
func (r *report) given(path string) bool {
	for _, m := range []map[string]int{r.lines} {
		for p := range m {
			if p == path || strings.HasPrefix(p, path+".") {
				return true
			}
		}
	}
	for p := range r.origins {
		if p == path || strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

// parent strips the last ".key" or "[i]" from a setting path.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// join appends a key to a setting path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// validator checks a decoded Config. It never formats secret values.
type validator struct {
	r    *report
	mode Mode
	stat func(string) (fs.FileInfo, error)
	reg  plugin.Registry
	// publicURL is server.public_url, for plug-ins that serve webhooks or
	// pages (plugin.PublicURL).
	publicURL string
}

func (v *validator) production() bool { return v.mode != ModeDemo }

func (v *validator) errorf(path, format string, args ...any) {
	if !v.r.failed[path] {
		v.r.add(path, 0, false, fmt.Sprintf(format, args...))
	}
}

func (v *validator) warnf(path, format string, args ...any) {
	if !v.r.failed[path] {
		v.r.add(path, 0, true, fmt.Sprintf(format, args...))
	}
}

func (v *validator) positive(path string, d time.Duration) {
	if d <= 0 {
		v.errorf(path, "must be a positive duration such as 30s or 15m")
	}
}

func (v *validator) atLeast(path string, n, lowest int) {
	if n < lowest {
		v.errorf(path, "must be at least %d", lowest)
	}
}

// fileExists checks that a configured file exists and is a regular file.
func (v *validator) fileExists(path, file string) {
	if file == "" {
		return
	}
	fi, err := v.stat(file)
	switch {
	case err != nil:
		v.errorf(path, "file %q does not exist or cannot be read", file)
	case fi.IsDir():
		v.errorf(path, "%q is a directory, not a file", file)
	}
}

// dirExists checks that the directory a file will be created in exists.
func (v *validator) dirExists(path, file string) {
	dir := filepath.Dir(file)
	fi, err := v.stat(dir)
	if err != nil || !fi.IsDir() {
		v.errorf(path, "directory %q does not exist", dir)
	}
}
