package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/store/bolt"
	"github.com/resetbot/resetbot/plugins"
)

// productionMemoryYAML is an otherwise plausible production file that
// selects the demo directory.
const productionMemoryYAML = `mode: production
store: {type: bolt, bolt: {path: "%s"}}
keys:
  encryption: "k1:WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="
  hmac: "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWl"
directories:
  - name: demo
    type: memory
    domains: [corp.example]
factors: {enabled: [totp, email]}
notify:
  email: {host: smtp.corp.example, port: 587, from: resetbot@corp.example, tls: mandatory}
`

// TestDemoDirectoryNeverInProduction: a production file selecting the
// memory directory fails validation, and a production Config built in code
// (validation bypassed) is refused by Build.
func TestDemoDirectoryNeverInProduction(t *testing.T) {
	db := filepath.Join(t.TempDir(), "resetbot.db")
	yaml := strings.Replace(productionMemoryYAML, "%s", db, 1)
	cfg, probs := config.Parse([]byte(yaml), nil, plugins.All())
	if !probs.HasErrors() {
		t.Fatal("production + memory directory passed validation")
	}
	found := false
	for _, p := range probs.Errors() {
		if p.Path == "directories[0].type" && strings.Contains(p.Message, "demo directory") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no directories[0].type problem about the demo directory:\n%s", probs.Error())
	}
	if cfg == nil {
		t.Fatal("Parse returned no config")
	}

	// Bypass validation: the config as decoded (production, memory
	// directory), and the built-in demo config switched to production.
	fromDemo := config.Default(plugins.All())
	fromDemo.Mode = config.ModeProduction
	fromDemo.Store = config.StoreConfig{Type: "bolt", Plugin: &bolt.Config{Path: filepath.Join(t.TempDir(), "d.db")}}
	for name, c := range map[string]*config.Config{"decoded file": cfg, "demo switched to production": fromDemo} {
		t.Run(name, func(t *testing.T) {
			if c.Mode != config.ModeProduction || c.Directories[0].Type != "memory" {
				t.Fatalf("setup: mode %s, type %s", c.Mode, c.Directories[0].Type)
			}
			a, err, panicked := tryBuild(c)
			if a != nil {
				_ = a.Close()
				t.Fatal("Build returned an app for the memory directory in production")
			}
			if panicked != nil {
				t.Fatalf("Build panicked instead of returning its error: %v", panicked)
			}
			if err == nil || !strings.Contains(err.Error(), "memory directory exists only in demo mode") {
				t.Fatalf("Build error %v does not say why", err)
			}
		})
	}
	// The store opened before the directory was closed again: the bolt
	// file can be opened at once (bbolt holds an exclusive lock).
	c := config.Default(plugins.All())
	c.Store = config.StoreConfig{Type: "bolt", Plugin: &bolt.Config{Path: db}}
	a, err := app.Build(context.Background(), c, app.Options{Floor: -1})
	if err != nil {
		t.Fatalf("bolt file still locked after a failed build: %v", err)
	}
	_ = a.Close()
}

// tryBuild runs app.Build and turns a panic into a value.
func tryBuild(c *config.Config) (a *app.App, err error, panicked any) {
	defer func() { panicked = recover() }()
	a, err = app.Build(context.Background(), c, app.Options{Floor: -1})
	return a, err, nil
}
