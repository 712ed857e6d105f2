package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong (or worth a warning) in a configuration. Messages
// never contain secret values: a problem about a secret names the setting only.
type Problem struct {
	// Path names the setting, e.g. "directories[0].ldap.url". Environment
	// overrides use the same path; the message then names the variable. For
	// an unknown RESETBOT_ variable, Path is the variable's name.
	Path string
	// Line is the line in the YAML file, or 0 when the value came from the
	// environment, a default, or the setting is missing altogether (then the
	// line of the closest enclosing block is used when there is one).
	Line int
	// Message says what is wrong in plain language.
	Message string
	// Warning marks a problem that does not stop the service from starting.
	Warning bool
	// File names where the setting was read: the path given to Load, or
	// BuiltIn for the built-in demo configuration. Empty for Parse.
	File string
}

// BuiltIn is the File of problems found in the built-in demo configuration
// (Load with no path), typically an environment override applied to it: the
// operator never wrote that file, so its line numbers are not theirs.
const BuiltIn = "the built-in demo configuration"

// String formats the problem as "line 12: directories[0].ldap.url: message",
// prefixed with the file ("/etc/resetbot.yaml:12: ...") when it is known.
func (p Problem) String() string {
	var b strings.Builder
	if p.Warning {
		b.WriteString("warning: ")
	}
	switch {
	case p.File == BuiltIn:
		// No line: it would point into a file the operator has never seen.
		b.WriteString("in " + BuiltIn + " (no -config file given): ")
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		b.WriteString(p.File + ": ")
	case p.Line > 0:
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in one load, in document order followed by
// validation order. Load reports all of them at once.
type Problems []Problem

// Error joins all problems, one per line. Problems is not itself returned as an
// error by this package (a nil Problems in an error interface is not nil); use
// Err for that.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any problem is an error rather than a warning.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if !p.Warning {
			return true
		}
	}
	return false
}

// Errors returns only the problems that are errors.
func (ps Problems) Errors() Problems { return ps.filter(false) }

// Warnings returns only the problems that are warnings.
func (ps Problems) Warnings() Problems { return ps.filter(true) }

// Err returns the errors (not warnings) as an error, or nil when there are none.
func (ps Problems) Err() error {
	if errs := ps.Errors(); len(errs) > 0 {
		return errs
	}
	return nil
}

func (ps Problems) filter(warning bool) Problems {
	var out Problems
	for _, p := range ps {
		if p.Warning == warning {
			out = append(out, p)
		}
	}
	return out
}
