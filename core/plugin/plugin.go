// Package plugin is the contract between the configuration framework
// (core/config) and the plug-ins it configures: directories, stores,
// notifiers, channels and verification factors.
//
// A plug-in owns its settings. Its registry entry returns a fresh value of its
// own configuration type, with defaults filled in; core/config decodes the
// plug-in's YAML block straight into that value (unknown keys, wrong types and
// lines reported like any other setting) and then asks it to validate itself
// into the same problem list. The composition root opens it from the same
// value, so check-config and serve can never disagree and no setting is
// copied field by field on its way to the code that uses it (the dex
// ConnectorConfig model).
//
// This package is a leaf: plug-ins import it, never core/config.
package plugin

import (
	"maps"
	"slices"
)

// Config is a plug-in's own configuration block.
type Config interface {
	// Validate reports every problem with the block to c. path is the
	// block's setting path ("directories[0].ldap"); a problem names the
	// setting below it (path + ".url").
	Validate(c Checker, path string)
}

// Checker receives a plug-in's validation problems and answers what a
// plug-in may need to know to validate itself. Messages never contain secret
// values: a problem about a secret names the setting only.
type Checker interface {
	// Errorf reports a problem that stops the service from starting.
	Errorf(path, format string, args ...any)
	// Warnf reports a problem worth fixing that does not stop it.
	Warnf(path, format string, args ...any)
	// Given reports whether the file or the environment set path or
	// anything below it (a default was not enough).
	Given(path string) bool
	// Production reports whether the configuration is in production mode,
	// where demo components (memory backends, outboxes) are refused.
	Production() bool
	// FileExists reports a problem at path unless file is empty or names
	// a readable regular file.
	FileExists(path, file string)
}

// Kind is a family of plug-ins sharing one contract.
type Kind string

// The kinds of plug-in. Each names the configuration section holding its
// blocks.
const (
	// Directory plug-ins are decoded from directories[i].<type>.
	Directory Kind = "directory"
	// Store plug-ins are decoded from store.<type>.
	Store Kind = "store"
	// Notifier plug-ins are decoded from notify.<type>.
	Notifier Kind = "notifier"
	// Channel plug-ins are decoded from channels.<type>.
	Channel Kind = "channel"
	// Factor plug-ins (verification methods) are decoded from
	// factors.<type>; factors.enabled names them.
	Factor Kind = "factor"
	// FanoutTarget plug-ins are decoded from fanout.targets[i].<type>.
	// Today the ldap and ad targets are plug-ins (a directory's settings
	// plus match); the other target types are still core/config sections.
	FanoutTarget Kind = "fanout target"
)

// Registry lists, per kind, every plug-in type and how to make its
// configuration with its defaults. It is written out in one place, the
// composition root (package plugins), one line per plug-in.
type Registry map[Kind]map[string]func() Config

// New returns a fresh configuration for the plug-in typ of kind k, with its
// defaults, or false when no such plug-in is registered.
func (r Registry) New(k Kind, typ string) (Config, bool) {
	mk, ok := r[k][typ]
	if !ok {
		return nil, false
	}
	return mk(), true
}

// Types lists the registered types of kind k, sorted.
func (r Registry) Types(k Kind) []string {
	return slices.Sorted(maps.Keys(r[k]))
}

// Has reports whether typ is a registered plug-in of kind k.
func (r Registry) Has(k Kind, typ string) bool {
	_, ok := r[k][typ]
	return ok
}
