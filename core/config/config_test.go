package config_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory/ad"
	"github.com/resetbot/resetbot/core/directory/ldap"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/internal/testserver"
	"github.com/resetbot/resetbot/plugins"
)

// key32 returns a base64 key of 32 bytes filled with b.
func key32(b byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), 32)))
}

// fixture writes the files a production config refers to and returns the
// sections of a valid production config, keyed by top-level key.
func fixture(t *testing.T) (dir string, sections map[string]string) {
	t.Helper()
	dir = t.TempDir()
	// A real certificate: the directory plug-ins check that ca_file holds one.
	if _, err := testserver.SelfSignedCert(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")); err != nil {
		t.Fatal(err)
	}
	return dir, map[string]string{
		"mode":   "mode: production\n",
		"server": "server:\n  listen: \":8080\"\n  public_url: https://bot.corp.example\n",
		"store":  "store:\n  type: bolt\n  bolt:\n    path: " + filepath.Join(dir, "resetbot.db") + "\n",
		"keys": "keys:\n  encryption: k2:" + key32('b') + ",k1:" + key32('a') + "\n  primary: k2\n  hmac: " +
			strings.Repeat("h", 40) + "\n",
		"directories": `directories:
  - name: corp
    type: ldap
    domains: [corp.example]
    ldap:
      url: ldaps://ldap.corp.example:636
      ca_file: ` + filepath.Join(dir, "ca.pem") + `
      bind_dn: cn=resetbot,dc=corp,dc=example
      bind_password: bindpw-value
      base_dn: ou=people,dc=corp,dc=example
      attributes:
        recovery_email: personalEmail
  - name: ad
    type: ad
    domains: [ad.corp.example]
    ad:
      url: ldap://dc1.ad.corp.example
      start_tls: true
      bind_dn: CN=svc,DC=ad,DC=corp,DC=example
      bind_password: adpw-value
      base_dn: DC=ad,DC=corp,DC=example
      domain: ad.corp.example
`,
		"notify": `notify:
  email:
    host: smtp.corp.example
    from: resetbot@corp.example
`,
		"channels": `channels:
  slack:
    enabled: true
    signing_secret: slack-signing-value
    bot_token: xoxb-bot-value
    team_ids: [T0123ABCD]
    api_app_id: A0123ABCD
    help_desk_channel: C0123HELP
  twilio:
    enabled: true
    account_sid: AC123
    auth_token: twilio-token-value
    from_number: "+15551230000"
`,
		"handoff": "handoff: {}\n",
	}
}

var sectionOrder = []string{"mode", "server", "store", "keys", "directories", "factors", "password",
	"sessions", "regulation", "notify", "audit", "log", "channels", "handoff"}

// render joins sections, replacing those in over (an empty string drops one).
func render(sections, over map[string]string) string {
	var b strings.Builder
	for _, k := range sectionOrder {
		s, ok := over[k]
		if !ok {
			s = sections[k]
		}
		b.WriteString(s)
	}
	return b.String()
}

func errorPaths(ps config.Problems) []string {
	var out []string
	for _, p := range ps.Errors() {
		out = append(out, p.Path)
	}
	slices.Sort(out)
	return out
}

func TestValidProductionConfig(t *testing.T) {
	_, sections := fixture(t)
	cfg, probs := config.Parse([]byte(render(sections, nil)), nil, plugins.All())
	if len(probs) != 0 {
		t.Fatalf("problems:\n%s", probs.Error())
	}
	if cfg.Mode != config.ModeProduction || cfg.KeysGenerated {
		t.Errorf("mode %q generated %v", cfg.Mode, cfg.KeysGenerated)
	}
	d, _ := cfg.Directories[1].Plugin.(*ad.Config)
	if d == nil || d.Attributes.Login != "sAMAccountName" || d.PoolSize != 4 || d.DialTimeout.Seconds() != 5 {
		t.Errorf("AD defaults not applied: %+v", d)
	}
	if l, _ := cfg.Directories[0].Plugin.(*ldap.Config); l == nil || l.Attributes.Login != "uid" || l.UserFilter == "" {
		t.Errorf("LDAP defaults not applied: %+v", l)
	}
	primary, keys, err := cfg.Keys.ParseEncryption()
	if err != nil || primary != "k2" || len(keys) != 2 {
		t.Errorf("ParseEncryption = %q, %d keys, %v", primary, len(keys), err)
	}
	if got := cfg.Factors.Require.For("reset", "slack"); got != 2 {
		t.Errorf("reset on slack needs %d, want 2", got)
	}
	if cfg.Server.MaxBodyBytes != 1<<20 {
		t.Errorf("max_body_bytes default = %d", cfg.Server.MaxBodyBytes)
	}
}

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		name string
		over map[string]string
		want []string // exact set of error paths
	}{
		{"memory directory in production", map[string]string{"directories": "directories:\n  - {name: demo, type: memory}\n"},
			[]string{"directories[0].type"}},
		{"memory store in production", map[string]string{"store": "store: {type: memory}\n"}, []string{"store.type"}},
		{"outbox in production", map[string]string{"notify": "notify:\n  outbox: true\n  sms: {provider: outbox}\n"},
			[]string{"notify.outbox", "notify.sms.provider"}},
		{"mode unknown", map[string]string{"mode": "mode: staging\n"}, []string{"mode"}},
		{"no directories", map[string]string{"directories": ""}, []string{"directories"}},
		{"no keys", map[string]string{"keys": ""}, []string{"keys.encryption", "keys.hmac"}},
		{"bad keys", map[string]string{"keys": "keys:\n  encryption: k1:c2hvcnQ=\n  hmac: short\n"},
			[]string{"keys.encryption", "keys.hmac"}},
		{"unknown primary", map[string]string{"keys": "keys:\n  encryption: k1:" + key32('a') + "\n  primary: k9\n  hmac: " +
			strings.Repeat("h", 32) + "\n"}, []string{"keys.encryption"}},
		{"plain ldap in production", map[string]string{"directories": `directories:
  - name: corp
    type: ldap
    ldap: {url: "ldap://ldap", bind_dn: cn=x, bind_password: p, base_dn: dc=x}
`}, []string{"directories[0].ldap.url"}},
		{"ldap block missing fields", map[string]string{"directories": `directories:
  - name: corp
    type: ldap
    ldap: {url: "ftp://x", ca_file: /nonexistent/ca.pem, pool_size: 0, dial_timeout: -1s}
`}, []string{"directories[0].ldap.base_dn", "directories[0].ldap.bind_dn", "directories[0].ldap.bind_password",
			"directories[0].ldap.ca_file", "directories[0].ldap.dial_timeout", "directories[0].ldap.pool_size",
			"directories[0].ldap.url"}},
		{"type without block and wrong block", map[string]string{"directories": `directories:
  - name: corp
    type: ad
    ldap: {url: "ldaps://x"}
`}, []string{"directories[0].ad.base_dn", "directories[0].ad.bind_dn", "directories[0].ad.bind_password",
			"directories[0].ad.domain", "directories[0].ad.url", "directories[0].ldap"}},
		{"duplicate names and domains", map[string]string{"directories": `directories:
  - {name: a, type: x, domains: [corp.example]}
  - {name: a, type: "", domains: [Corp.Example, "bad@x"]}
`}, []string{"directories[0].type", "directories[1].domains[0]", "directories[1].domains[1]",
			"directories[1].name", "directories[1].type"}},
		{"codes out of range", map[string]string{"factors": `factors:
  codes: {digits: 4, ttl: 11m, max_attempts: 0}
`}, []string{"factors.codes.digits", "factors.codes.max_attempts", "factors.codes.ttl"}},
		{"questions alone", map[string]string{"factors": "factors:\n  enabled: [questions]\n"},
			[]string{"factors.enabled"}},
		{"unknown factor and channel", map[string]string{"factors": `factors:
  enabled: [totp, fax, totp]
  require:
    reset: {default: 2, fax: 1}
    unlock: {default: 0}
`}, []string{"factors.enabled[1]", "factors.enabled[2]", "factors.require.reset.default", "factors.require.reset.fax",
			"factors.require.reset.voice", "factors.require.unlock.default"}},
		{"require more than enabled", map[string]string{"factors": "factors:\n  enabled: [totp, questions]\n"},
			[]string{"factors.require.reset.default", "factors.require.reset.voice"}},
		{"questions catalog too small", map[string]string{"factors": `factors:
  enabled: [totp, sms, questions]
  questions: {ask: 3, min_enrolled: 2, catalog: [{id: a}]}
`}, []string{"factors.questions.catalog", "factors.questions.catalog[0].message_id", "factors.questions.min_enrolled"}},
		{"password policy", map[string]string{"password": `password:
  min_length: 6
  max_length: 20
  breached_file: /nonexistent/pwned.txt
  passphrase_words: 1
`}, []string{"password.breached_file", "password.max_length", "password.min_length", "password.passphrase_words"}},
		{"sessions", map[string]string{"sessions": "sessions: {idle_timeout: 1h, absolute_timeout: 30m}\n"},
			[]string{"sessions.idle_timeout"}},
		{"server", map[string]string{"server": `server:
  listen: "8080"
  admin_listen: "localhost"
  public_url: http://bot.corp.example
  max_body_bytes: 10
  tls_cert_file: /nonexistent/cert.pem
`}, []string{"server.admin_listen", "server.listen", "server.max_body_bytes", "server.public_url",
			"server.tls_cert_file", "server.tls_cert_file"}},
		{"admin same as public", map[string]string{"server": "server: {listen: \":8080\", admin_listen: \":8080\", public_url: \"https://x\"}\n"},
			[]string{"server.admin_listen"}},
		{"channels incomplete", map[string]string{"channels": `channels:
  slack: {enabled: true, help_desk_channel: C0123HELP}
  teams: {enabled: true}
  twilio: {enabled: true, account_sid: XX, from_number: "555"}
`}, []string{"channels.slack.api_app_id", "channels.slack.bot_token", "channels.slack.signing_secret", "channels.slack.team_ids", "channels.teams.app_id",
			"channels.teams.app_password", "channels.teams.tenant_id", "channels.twilio.account_sid",
			"channels.twilio.auth_token", "channels.twilio.from_number", "notify.sms.provider"}},
		{"log and audit", map[string]string{"log": "log: {level: loud, format: xml}\n", "audit": "audit: {file: /nonexistent/dir/audit.log}\n"},
			[]string{"audit.file", "log.format", "log.level"}},
		{"wrong types", map[string]string{"regulation": `regulation:
  max_failures: many
  window: 15
  send: [1, 2]
`}, []string{"regulation.max_failures", "regulation.send", "regulation.window"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sections := fixture(t)
			_, probs := config.Parse([]byte(render(sections, tt.over)), nil, plugins.All())
			got := errorPaths(probs)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("error paths\n got %q\nwant %q\nproblems:\n%s", got, want, probs.Error())
			}
		})
	}
}

func TestUnknownKeysAllReportedWithLines(t *testing.T) {
	const doc = `mode: production
sever: {}
server:
  listen: ":8080"
  lisen: ":8081"
directories:
  - name: corp
    type: ldap
    ldap:
      url: ldaps://x
      atributes:
        login: uid
      attributes:
        mail: mail
factors:
  require:
    reset: {default: 2}
  codes: {ttl: 5m, digts: 6}
`
	_, probs := config.Parse([]byte(doc), nil, plugins.All())
	want := map[string]int{
		"sever":                               2,
		"server.lisen":                        5,
		"directories[0].ldap.atributes":       11,
		"directories[0].ldap.attributes.mail": 14,
		"factors.codes.digts":                 18,
	}
	got := map[string]int{}
	for _, p := range probs {
		if strings.HasPrefix(p.Message, "unknown key") {
			got[p.Path] = p.Line
		}
	}
	if len(got) != len(want) {
		t.Errorf("unknown keys reported: %v, want %v\n%s", got, want, probs.Error())
	}
	for path, line := range want {
		if got[path] != line {
			t.Errorf("%s: line %d, want %d", path, got[path], line)
		}
	}
	if !strings.Contains(probs.Error(), `did you mean "attributes"?`) {
		t.Errorf("no suggestion in:\n%s", probs.Error())
	}
}

func TestSyntaxAndShape(t *testing.T) {
	tests := []struct {
		name, doc string
		line      int
		msg       string
	}{
		{"syntax", "server:\n  listen: [\n", 2, "not valid YAML"},
		{"not a mapping", "- a\n- b\n", 1, "block of settings"},
		{"two documents", "mode: demo\n---\nmode: production\n", 2, "one YAML document"},
		{"duplicate key", "mode: demo\nmode: demo\n", 2, "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := config.Parse([]byte(tt.doc), nil, plugins.All())
			for _, p := range probs {
				if strings.Contains(p.Message, tt.msg) {
					if p.Line != tt.line {
						t.Errorf("line %d, want %d", p.Line, tt.line)
					}
					return
				}
			}
			t.Errorf("no problem containing %q:\n%s", tt.msg, probs.Error())
		})
	}
}

func TestDefaultIsValidDemo(t *testing.T) {
	cfg := config.Default(plugins.All())
	if cfg.Mode != config.ModeDemo || !cfg.KeysGenerated {
		t.Fatalf("mode %q generated %v", cfg.Mode, cfg.KeysGenerated)
	}
	if cfg.Directories[0].Type != "memory" || cfg.Store.Type != "memory" || !cfg.Notify.Delivers(notify.ChannelEmail) {
		t.Errorf("demo backends not selected: %+v", cfg)
	}
	if _, _, err := cfg.Keys.ParseEncryption(); err != nil {
		t.Errorf("generated keys do not parse: %v", err)
	}
	if cfg.Keys.HMAC.Len() < config.MinHMACKeyBytes {
		t.Errorf("generated hmac too short")
	}
	if other := config.Default(plugins.All()); other.Keys.HMAC.Equal(cfg.Keys.HMAC) {
		t.Errorf("generated keys repeat between loads")
	}
	cfg2, probs := config.Load("", nil, plugins.All())
	if probs.HasErrors() || cfg2.Mode != config.ModeDemo {
		t.Errorf("Load(\"\") = %v, %s", cfg2.Mode, probs.Error())
	}
	// The demo file with the mode switched must fail loudly, not quietly run demo backends.
	_, probs = config.Parse(config.DemoYAML(), []string{"RESETBOT_MODE=production"}, plugins.All())
	for _, p := range []string{"directories[0].type", "store.type", "notify.outbox"} {
		if !slices.Contains(errorPaths(probs), p) {
			t.Errorf("production demo config: no error at %s:\n%s", p, probs.Error())
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	cfg, probs := config.Load(filepath.Join(t.TempDir(), "nope.yaml"), nil, plugins.All())
	if cfg != nil || !probs.HasErrors() || probs.Err() == nil {
		t.Fatalf("cfg %v problems %v", cfg, probs)
	}
}

func TestProblemsFormat(t *testing.T) {
	ps := config.Problems{
		{Path: "a.b", Line: 3, Message: "is wrong"},
		{Path: "c", Message: "is odd", Warning: true},
	}
	if got, want := ps.Error(), "line 3: a.b: is wrong\nwarning: c: is odd"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !ps.HasErrors() || len(ps.Warnings()) != 1 || len(ps.Errors()) != 1 {
		t.Errorf("filters wrong")
	}
	if ps.Warnings().HasErrors() || ps.Warnings().Err() != nil {
		t.Errorf("warnings count as errors")
	}
}

func TestWarnings(t *testing.T) {
	_, sections := fixture(t)
	over := map[string]string{
		"factors":  "factors:\n  enabled: [totp, sms, questions]\n",
		"password": "password: {min_length: 10}\n",
	}
	_, probs := config.Parse([]byte(render(sections, over)), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatalf("unexpected errors:\n%s", probs.Error())
	}
	var paths []string
	for _, p := range probs.Warnings() {
		paths = append(paths, p.Path)
	}
	if !slices.Equal(paths, []string{"factors.enabled", "password.min_length"}) {
		t.Errorf("warnings at %q:\n%s", paths, probs.Error())
	}
}

func TestMergeKeys(t *testing.T) {
	_, sections := fixture(t)
	over := map[string]string{"directories": `directories:
  - &base
    name: one
    type: ldap
    domains: [one.example]
    ldap: &conn
      url: ldaps://ldap
      bind_dn: cn=x
      bind_password: pw-value
      base_dn: dc=x
  - <<: *base
    name: two
    domains: [two.example]
    ldap:
      <<: *conn
      base_dn: dc=two
`}
	cfg, probs := config.Parse([]byte(render(sections, over)), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatalf("problems:\n%s", probs.Error())
	}
	if got, l := cfg.Directories[1], cfg.Directories[1].Plugin.(*ldap.Config); got.Name != "two" || l.BaseDN != "dc=two" || l.BindDN != "cn=x" {
		t.Errorf("merged directory = %+v", got)
	}
}

func TestLoadFile(t *testing.T) {
	dir, sections := fixture(t)
	path := filepath.Join(dir, "resetbot.yaml")
	if err := os.WriteFile(path, []byte(render(sections, nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, probs := config.Load(path, []string{"RESETBOT_LOG__LEVEL=warn"}, plugins.All())
	if probs.HasErrors() || cfg.Log.Level != "warn" || cfg.Mode != config.ModeProduction {
		t.Fatalf("cfg %+v\n%s", cfg.Log, probs.Error())
	}
	// A file without a mode line is production.
	cfg, _ = config.Parse([]byte("log: {level: info}\n"), nil, plugins.All())
	if cfg.Mode != config.ModeProduction {
		t.Errorf("mode = %q, want production", cfg.Mode)
	}
}

func TestAliasBomb(t *testing.T) {
	// Merge keys of merge keys: 10^7 expansions if nothing bounds them.
	doc := "a: &a {log: {level: info}}\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		doc += n + ": &" + n + " {<<: [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]}\n"
		prev = n
	}
	doc += "<<: *h\n"
	_, probs := config.Parse([]byte(doc), nil, plugins.All())
	if !strings.Contains(probs.Error(), "too many values") {
		t.Errorf("alias expansion not bounded:\n%.500s", probs.Error())
	}
}

// TestEmailFactorNeverTheLoginMailbox: check-config refuses an email factor
// whose recovery attribute is the account's own work mailbox.
func TestEmailFactorNeverTheLoginMailbox(t *testing.T) {
	for _, attr := range []string{"mail", "userPrincipalName", "MAIL"} {
		_, sections := fixture(t)
		over := map[string]string{"directories": strings.Replace(sections["directories"],
			"recovery_email: personalEmail", "recovery_email: "+attr, 1)}
		_, probs := config.Parse([]byte(render(sections, over)), nil, plugins.All())
		if got := errorPaths(probs); !slices.Contains(got, "directories[0].ldap.attributes.recovery_email") {
			t.Errorf("%s: errors %v", attr, got)
		}
	}
}
