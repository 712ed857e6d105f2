package layering

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/resetbot/resetbot/"

// rule forbids packages under from (a path prefix) to import packages under
// any of to, except the composition root and the adapters' own helpers
// listed in allow.
type rule struct {
	from  string
	to    []string
	allow []string // importers under from that the rule does not cover
	why   string
}

var rules = []rule{
	{from: "core/", to: []string{"bot/", "ivr/", "flows", "cmd/", "plugins"},
		why: "core is below the flows and the channels; the composition root that wires them belongs above both"},
	{from: "core/", to: []string{"app"},
		why: "nothing in core depends on the composition root"},
	{from: "core/", to: []string{"core/config"}, allow: []string{"core/config"},
		why: "backends receive their own settings, never the whole configuration"},
	{from: "flows", to: []string{"bot/", "ivr/", "cmd/", "app", "core/config", "plugins"},
		why: "the flows are defined once, for every channel, against narrow dependencies"},
	{from: "bot/", to: []string{"ivr/", "cmd/", "app", "core/config", "flows", "plugins"},
		why: "a channel adapter translates platform events; it gets narrow dependencies, not the wiring"},
	{from: "ivr/", to: []string{"bot/", "cmd/", "app", "core/config", "flows", "plugins"},
		why: "a channel adapter translates platform events; it gets narrow dependencies, not the wiring"},
	{from: "core/plugin", to: []string{"core/", "bot/", "ivr/", "flows", "cmd/", "plugins"},
		why: "the plug-in contract is a leaf that every plug-in may import"},
	{from: "bot/slack", to: []string{"bot/teams", "bot/console"}, why: "adapters do not import each other"},
	{from: "bot/teams", to: []string{"bot/slack", "bot/console"}, why: "adapters do not import each other"},
}

// known are the imports that break a rule today, each to be removed by
// issue 13 (channels and plug-ins behind narrow contracts). The test fails
// on any import that breaks a rule and is not listed, and on a listed one
// that is gone, so this list can only shrink.
var known = map[string]bool{}

// TestImportRules checks every non-test import of the module's packages
// against the rules.
func TestImportRules(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	broken := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(f[0], module)
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			imp = strings.TrimPrefix(imp, module)
			for _, r := range rules {
				if breaks(r, pkg, imp) {
					broken[pkg+" -> "+imp] = r.why
				}
			}
		}
	}
	var keys []string
	for k := range broken {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !known[k] {
			t.Errorf("%s: %s", k, broken[k])
		}
	}
	for k := range known {
		if _, still := broken[k]; !still {
			t.Errorf("%s no longer breaks a rule: remove it from known", k)
		}
	}
}

func breaks(r rule, pkg, imp string) bool {
	if !under(pkg, r.from) {
		return false
	}
	for _, a := range r.allow {
		if under(pkg, a) {
			return false
		}
	}
	for _, to := range r.to {
		if under(imp, to) {
			return true
		}
	}
	return false
}

// under reports whether pkg is prefix itself or inside it ("core/" matches
// every package below core; "flows" matches flows and flows/...).
func under(pkg, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(pkg, prefix)
	}
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// TestRulesCatchAViolation keeps the checker honest: a core package
// importing an adapter, or one adapter importing another, breaks a rule.
func TestRulesCatchAViolation(t *testing.T) {
	for _, c := range []struct {
		pkg, imp string
		want     bool
	}{
		{"core/engine", "bot/slack", true},
		{"core/engine", "flows", true},
		{"core/regulation", "core/config", true},
		{"core/outreach", "flows", true},
		{"app", "flows", false},
		{"app", "core/config", false},
		{"core/engine", "app", true},
		{"bot/slack", "bot/teams", true},
		{"bot/slack", "bot/chatid", false},
		{"flows", "core/engine", false},
		{"ivr/twilio", "app", true},
	} {
		got := false
		for _, r := range rules {
			got = got || breaks(r, c.pkg, c.imp)
		}
		if got != c.want {
			t.Errorf("%s -> %s: breaks = %v, want %v", c.pkg, c.imp, got, c.want)
		}
	}
}
