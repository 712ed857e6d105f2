package plugins_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/email"
	"github.com/resetbot/resetbot/core/notify/outbox"
	"github.com/resetbot/resetbot/core/store/bolt"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/plugins"
)

// TestCommentedBoltExampleLoads: example.yaml shows the bolt block in a
// comment (store holds the selected type's block only); uncommented, with
// type: bolt and without the redis block, it loads into bolt.Config.
func TestCommentedBoltExampleLoads(t *testing.T) {
	doc := string(config.ExampleYAML())
	start, end := strings.Index(doc, "store:\n"), strings.Index(doc, "\nkeys:\n")
	if start < 0 || end < start {
		t.Fatal("no store section in example.yaml")
	}
	var store []string
	for _, l := range strings.Split(doc[start:end], "\n") {
		switch {
		case strings.HasPrefix(l, "  # bolt:"), strings.HasPrefix(l, "  #   path:"):
			store = append(store, strings.Replace(l, "# ", "", 1))
		case strings.HasPrefix(l, "  type:"):
			store = append(store, "  type: bolt")
		case l == "store:":
			store = append(store, l)
		}
	}
	cfg, _ := config.Parse([]byte(doc[:start]+strings.Join(store, "\n")+doc[end:]), nil, plugins.All())
	if b, ok := cfg.Store.Plugin.(*bolt.Config); !ok || b.Path != "/var/lib/resetbot/resetbot.db" {
		t.Fatalf("store = %s %#v (from %q)", cfg.Store.Type, cfg.Store.Plugin, store)
	}
}

// TestPluginSecretsFromEnvironment: secrets of plug-in blocks are set from
// RESETBOT_* variables and from *_FILE files, into the plug-in's struct.
func TestPluginSecretsFromEnvironment(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "redis-password")
	if err := os.WriteFile(pwFile, []byte("redis-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"RESETBOT_STORE__REDIS__PASSWORD_FILE=" + pwFile,
		"RESETBOT_STORE__REDIS__SENTINEL_PASSWORD=sentinel-from-env",
		"RESETBOT_STORE__REDIS__POOL_SIZE=12",
		"RESETBOT_NOTIFY__EMAIL__PASSWORD=smtp-from-env",
		"RESETBOT_NOTIFY__OUTBOX=false",
		"RESETBOT_CHANNELS__TWILIO__AUTH_TOKEN=x",
	}
	cfg, probs := config.Parse(config.ExampleYAML(), env, plugins.All())
	for _, p := range probs.Errors() {
		if strings.HasPrefix(p.Path, "store.") || strings.HasPrefix(p.Path, "notify.") || strings.HasPrefix(p.Path, "RESETBOT_") {
			t.Errorf("problem %s", p)
		}
	}
	r, ok := cfg.Store.Plugin.(*redis.Config)
	if !ok || r.Password.Reveal() != "redis-from-file" || r.SentinelPassword.Reveal() != "sentinel-from-env" || r.PoolSize != 12 {
		t.Fatalf("store.redis = %#v", cfg.Store.Plugin)
	}
	e, ok := cfg.Notify.Plugins["email"].(*email.Config)
	if !ok || e.Password.Reveal() != "smtp-from-env" || e.Host != "smtp.corp.example" {
		t.Fatalf("notify.email = %#v", cfg.Notify.Plugins["email"])
	}
	if o, ok := cfg.Notify.Plugins["outbox"].(*outbox.Config); !ok || bool(*o) {
		t.Fatalf("notify.outbox = %#v", cfg.Notify.Plugins["outbox"])
	}
	// The same secret twice, and an unknown key of a plug-in block, are
	// refused by name.
	_, probs = config.Parse(config.ExampleYAML(), []string{"RESETBOT_STORE__REDIS__PASSWORD=a",
		"RESETBOT_STORE__REDIS__PASSWORD_FILE=" + pwFile, "RESETBOT_NOTIFY__EMAIL__PASWORD=x"}, plugins.All())
	msgs := probs.Error()
	if !strings.Contains(msgs, "both RESETBOT_STORE__REDIS__PASSWORD and RESETBOT_STORE__REDIS__PASSWORD_FILE are set") ||
		!strings.Contains(msgs, `no key "notify.email.pasword"`) {
		t.Errorf("problems:\n%s", msgs)
	}
	// A block can be created from the environment alone.
	demo, probs := config.Parse(config.DemoYAML(), []string{"RESETBOT_NOTIFY__EMAIL__HOST=smtp.env.example",
		"RESETBOT_NOTIFY__EMAIL__FROM=bot@env.example", "RESETBOT_NOTIFY__OUTBOX=false"}, plugins.All())
	if probs.HasErrors() {
		t.Fatalf("demo with email from the environment:\n%s", probs.Error())
	}
	if e, ok := demo.Notify.Plugins["email"].(*email.Config); !ok || e.Host != "smtp.env.example" || e.Port != 587 ||
		!demo.Notify.Delivers(notify.ChannelEmail) || demo.Notify.Delivers(notify.ChannelSMS) {
		t.Fatalf("notify = %#v", demo.Notify.Plugins)
	}
}

// TestStoreAndNotifyProblemsHavePathsAndLines: the plug-ins' own checks come
// out of the configuration load with the setting's path and file line.
func TestStoreAndNotifyProblemsHavePathsAndLines(t *testing.T) {
	doc := `mode: demo
store:
  type: redis
  redis:
    addrs: ["r:6379"]
    ca_file: /etc/hosts
    bolt: {}
notify:
  outbox: true
  email:
    host: smtp.example
    from: nobody
`
	_, probs := config.Parse([]byte(doc), nil, plugins.All())
	want := map[string]int{
		"store.redis.ca_file": 6, "store.redis.bolt": 7, "notify.email.from": 12,
		"notify.outbox": 9, // delivers e-mail as notify.email does
	}
	for _, p := range probs.Errors() {
		if line, ok := want[p.Path]; ok {
			if p.Line != line {
				t.Errorf("%s at line %d, want %d", p, p.Line, line)
			}
			delete(want, p.Path)
		}
	}
	for p := range want {
		t.Errorf("no error at %s:\n%s", p, probs.Error())
	}
}
