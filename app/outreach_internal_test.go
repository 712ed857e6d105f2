package app

import (
	"reflect"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory/ldap"
	"github.com/resetbot/resetbot/core/plugin"
)

// listing is a directory plug-in configuration of a type the wiring has
// never heard of, whose directory lists lockouts (or not).
type listing struct{ lists bool }

func (listing) Validate(plugin.Checker, string) {}
func (l listing) ListsLockouts() bool           { return l.lists }

// TestDefaultWatchedAsksThePlugin: with outreach.lockout.directories empty,
// the watched directories are those whose plug-in configuration lists
// lockouts, whatever their type is called; a type name alone (an ldap
// directory without its plug-in block) does not make one watched.
func TestDefaultWatchedAsksThePlugin(t *testing.T) {
	dirs := []config.DirectoryConfig{
		{Name: "corp", Type: "ldap", Plugin: ldap.NewConfig()},
		{Name: "novell", Type: "edirectory", Plugin: listing{lists: true}},
		{Name: "quiet", Type: "custom", Plugin: listing{lists: false}},
		{Name: "named-only", Type: "ad"},
		{Name: "demo", Type: "memory"},
	}
	got := defaultWatched(dirs)
	want := []config.WatchedDirectory{{Name: "corp"}, {Name: "novell"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("watched by default = %+v, want %+v", got, want)
	}
}
