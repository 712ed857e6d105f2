// Package config loads resetbot's configuration: one YAML file, overridden by
// RESETBOT_* environment variables and *_FILE secrets (see EnvPrefix).
//
// Loading never stops at the first mistake. Unknown keys at any depth, values
// of the wrong type and every validation failure are collected into Problems,
// each with the setting path (directories[0].ldap.url) and the file line, so
// an operator fixes everything in one pass (the authelia validator model).
// Secret settings are secret.String and print REDACTED everywhere, including
// in problems and in Summary.
//
// Two modes exist. production (the default for a file) refuses every demo
// component: the memory directory and store and the notify outbox, so a demo
// backend can never be selected by accident. demo (Default, or Load with no
// file) allows them and generates missing keys at startup.
package config

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/plugin"
)

// Mode is demo or production.
type Mode string

// Modes.
const (
	ModeDemo       Mode = "demo"
	ModeProduction Mode = "production"
)

// Config is the whole resetbot configuration.
type Config struct {
	// Mode defaults to production when a file is loaded.
	Mode Mode `yaml:"mode"`
	// Language is spoken to people whose locale has no catalog (default
	// en). The phone's default is the first of channels.twilio.languages.
	Language    string            `yaml:"language"`
	Server      ServerConfig      `yaml:"server"`
	Store       StoreConfig       `yaml:"store"`
	Keys        KeysConfig        `yaml:"keys"`
	Directories []DirectoryConfig `yaml:"directories"`
	Sessions    SessionsConfig    `yaml:"sessions"`
	Factors     FactorsConfig     `yaml:"factors"`
	Password    PasswordConfig    `yaml:"password"`
	Regulation  RegulationConfig  `yaml:"regulation"`
	Notify      NotifyConfig      `yaml:"notify"`
	Audit       AuditConfig       `yaml:"audit"`
	Log         LogConfig         `yaml:"log"`
	Channels    ChannelsConfig    `yaml:"channels"`
	Handoff     HandoffConfig     `yaml:"handoff"`
	Alarms      AlarmsConfig      `yaml:"alarms"`
	Report      ReportConfig      `yaml:"report"`
	Tracing     TracingConfig     `yaml:"tracing"`
	Fanout      FanoutConfig      `yaml:"fanout"`
	Outreach    OutreachConfig    `yaml:"outreach"`

	// KeysGenerated is true when demo mode generated the keys at startup.
	KeysGenerated bool `yaml:"-"`
}

//go:embed demo.yaml
var demoYAML []byte

// defaults returns the values used for every setting the file leaves out.
func defaults() *Config {
	return &Config{
		Mode:       ModeProduction,
		Server:     defaultServer(),
		Sessions:   defaultSessions(),
		Factors:    defaultFactors(),
		Password:   defaultPassword(),
		Regulation: defaultRegulation(),
		Notify:     defaultNotify(),
		Audit:      AuditConfig{File: "-"},
		Log:        LogConfig{Level: "info", Format: "json"},
		Handoff:    defaultHandoff(),
		Alarms:     defaultAlarms(),
		Report:     defaultReport(),
		Tracing:    defaultTracing(),
		Outreach:   defaultOutreach(),
	}
}

// Default returns the built-in demo configuration (memory directory and store,
// outbox notifier, generated keys): what `make run` uses with no file. reg
// lists the plug-ins (plugins.All() in the binary).
func Default(reg plugin.Registry) *Config {
	cfg, probs := newLoader(reg).parse(demoYAML, nil)
	if probs.HasErrors() {
		panic("config: built-in demo configuration is invalid:\n" + probs.Error())
	}
	return cfg
}

//go:embed example.yaml
var exampleYAML []byte

// ExampleYAML returns a commented production configuration showing every
// setting (secrets left empty, to be set from the environment).
func ExampleYAML() []byte { return bytes.Clone(exampleYAML) }

// DemoYAML returns the text of the built-in demo configuration, a starting
// point for a real file.
func DemoYAML() []byte { return bytes.Clone(demoYAML) }

// Load reads the YAML file at path, applies the environment overrides in env
// (os.Environ() form, "KEY=value") and validates the result. An empty path
// loads the built-in demo configuration, still with env applied.
//
// The returned Config is nil only when the file cannot be read or parsed as
// YAML; otherwise it holds the decoded values even when Problems has errors,
// which callers must check with HasErrors before using it.
//
// reg lists the plug-ins whose blocks the file may hold (plugins.All() in
// the binary): each block is decoded into, and validated by, its plug-in's
// own configuration type.
func Load(path string, env []string, reg plugin.Registry) (*Config, Problems) {
	l := newLoader(reg)
	if path == "" {
		cfg, probs := l.parse(demoYAML, env)
		return cfg, probs.from(BuiltIn)
	}
	data, err := l.readFile(path)
	if err != nil {
		return nil, Problems{{Message: fmt.Sprintf("cannot read the configuration file: %v", err)}}
	}
	cfg, probs := l.parse(data, env)
	return cfg, probs.from(path)
}

// from sets the File of every problem.
func (ps Problems) from(file string) Problems {
	for i := range ps {
		ps[i].File = file
	}
	return ps
}

// Parse is Load for YAML already in memory.
func Parse(data []byte, env []string, reg plugin.Registry) (*Config, Problems) {
	return newLoader(reg).parse(data, env)
}

// loader carries the plug-in registry, the file system and randomness (the
// last two replaceable in tests).
type loader struct {
	reg      plugin.Registry
	readFile func(string) ([]byte, error)
	stat     func(string) (fs.FileInfo, error)
	rand     io.Reader
}

func newLoader(reg plugin.Registry) *loader {
	return &loader{reg: reg, readFile: os.ReadFile, stat: os.Stat, rand: rand.Reader}
}

func (l *loader) parse(data []byte, env []string) (*Config, Problems) {
	r := newReport()
	root, ok := parseYAML(data, r)
	if !ok {
		return nil, r.probs
	}
	l.applyEnv(root, env, r)
	cfg := defaults()
	(&decoder{r: r, reg: l.reg}).decode(root, reflect.ValueOf(cfg).Elem(), "")
	fillFanoutDefaults(&cfg.Fanout)
	fillFactorDefaults(&cfg.Factors, l.reg)
	v := &validator{r: r, mode: cfg.Mode, stat: l.stat, reg: l.reg, publicURL: cfg.Server.PublicURL}
	if cfg.Mode != ModeDemo && cfg.Mode != ModeProduction {
		v.errorf("mode", "must be demo or production")
	}
	if cfg.Mode == ModeDemo {
		gen, err := generateKeys(&cfg.Keys, l.rand)
		if err != nil {
			v.errorf("keys", "%v", err)
		}
		cfg.KeysGenerated = gen
	}
	v.config(cfg)
	v.validatePlugins(reflect.ValueOf(cfg).Elem(), "")
	if r.given("factors.require.enroll") {
		v.enrollRequire(cfg.Factors.Require)
	} else {
		// Enrolling needs what a reset needs (flows.Policy enforces it): the
		// default is the reset's requirement, so the value shown is in force.
		// Set after validation, which has reported the reset's counts already.
		cfg.Factors.Require.Enroll = maps.Clone(cfg.Factors.Require.Reset)
	}
	return cfg, r.probs
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// parseYAML returns the top-level mapping of a single-document file.
func parseYAML(data []byte, r *report) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		msg, line := err.Error(), 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		r.add("", line, false, "not valid YAML: "+msg)
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		r.add("", extra.Line, false, "only one YAML document is allowed (remove the second ---)")
	}
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 && !isNull(doc.Content[0]) {
		root = doc.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		r.add("", root.Line, false, "the file must be a block of settings (key: value)")
		return nil, false
	}
	return root, true
}

// config validates every section; sections report independently.
func (v *validator) config(c *Config) {
	v.server(&c.Server)
	v.store(&c.Store)
	v.keys(&c.Keys)
	v.directories(c.Directories)
	v.sessions(&c.Sessions)
	v.factors(&c.Factors, v.reg)
	v.emailFactor(c)
	v.password(&c.Password)
	v.regulation(&c.Regulation)
	v.notify(&c.Notify, c)
	v.audit(&c.Audit)
	v.log(&c.Log)
	v.handoff(&c.Handoff)
	v.alarms(&c.Alarms, &c.Channels)
	v.report(&c.Report, &c.Channels)
	v.tracing(&c.Tracing)
	v.fanout(&c.Fanout, c.Directories)
	v.outreach(&c.Outreach, c)
	v.escalations(c)
	v.language(c.Language)
}

// language checks the default language against the message catalogs.
func (v *validator) language(l string) {
	if l == "" {
		return
	}
	cat, err := messages.Load()
	if err != nil {
		v.errorf("language", "message catalogs: %v", err)
		return
	}
	if !cat.Supported(l) {
		v.errorf("language", "%q has no catalog; use one of %s", l, strings.Join(cat.Languages(), ", "))
	}
}
