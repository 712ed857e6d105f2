package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/bottest"
	"github.com/resetbot/resetbot/internal/testserver"
	"github.com/resetbot/resetbot/plugins"
)

// rig is an app built from YAML, with its logs and audit captured and every
// secret the test used remembered for the leak sweep.
type rig struct {
	t       testing.TB
	a       *app.App
	logs    *loggingtest.Buffer
	rec     *audit.Recorder
	secrets []string
	lines   []string
}

// yamlConfig renders a config template with data and parses it, failing the
// test on any error-level problem.
func yamlConfig(t testing.TB, tmpl string, data env) *config.Config {
	t.Helper()
	if data.AuditFile == "" {
		data.AuditFile = filepath.Join(t.TempDir(), "audit.jsonl")
	}
	var b bytes.Buffer
	if err := template.Must(template.New("cfg").Parse(tmpl)).Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	cfg, probs := config.Parse(b.Bytes(), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatalf("config problems:\n%s\nconfig:\n%s", probs.Error(), b.String())
	}
	return cfg
}

// newRig builds the app from cfg; it is closed when t ends.
func newRig(t testing.TB, cfg *config.Config) *rig {
	t.Helper()
	log, buf := loggingtest.Capture(t)
	r := &rig{t: t, logs: buf, rec: &audit.Recorder{}}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log, Audit: r.rec})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Cleanup(func() {
		_ = a.Close()
		if tt, ok := t.(*testing.T); ok && tt.Failed() {
			tt.Logf("transcript:\n%s", strings.Join(r.lines, "\n"))
		}
	})
	r.a = a
	return r
}

// send runs one turn and records a transcript line per output.
func (r *rig) send(channel, user string, in engine.Input) engine.Reply {
	r.t.Helper()
	if in.Kind == engine.InputSecret {
		r.secrets = append(r.secrets, in.Value.Reveal(), in.Confirm.Reveal())
	}
	rep := r.a.Engine.Handle(context.Background(), engine.Turn{Channel: channel, ChannelUser: user, Input: in})
	r.lines = append(r.lines, "> "+in.Kind.String()+" "+in.Choice+in.Flow)
	for _, o := range rep.Outputs {
		r.lines = append(r.lines, "< "+o.MessageID)
	}
	r.lines = append(r.lines, fmt.Sprintf("= %s/%s ended=%v", rep.Flow, rep.State, rep.Ended))
	return rep
}

// expect fails unless the reply ends in state and holds the message ID.
func (r *rig) expect(rep engine.Reply, state, msgID string) {
	r.t.Helper()
	if rep.State != state {
		r.t.Fatalf("state %q, want %q (outputs %v)", rep.State, state, ids(rep))
	}
	if msgID != "" && !hasOutput(rep, msgID) {
		r.t.Fatalf("outputs %v, want %s", ids(rep), msgID)
	}
}

func ids(rep engine.Reply) []string {
	var out []string
	for _, o := range rep.Outputs {
		out = append(out, o.MessageID)
	}
	return out
}

func hasOutput(rep engine.Reply, id string) bool {
	for _, o := range rep.Outputs {
		if o.MessageID == id {
			return true
		}
	}
	return false
}

var codeRE = regexp.MustCompile(`\b(\d{6,8})\b`)

// code returns the one-time code in the newest outbox message.
func (r *rig) code() string {
	r.t.Helper()
	d, ok := r.a.Outbox.Last()
	if !ok {
		r.t.Fatal("outbox is empty")
	}
	body := strings.ReplaceAll(d.Message.Body.Reveal(), ", ", "") // voice spells digits out
	m := codeRE.FindStringSubmatch(body)
	if m == nil {
		r.t.Fatalf("no code in outbox message %s", d.Message.Summary)
	}
	r.secrets = append(r.secrets, m[1])
	return m[1]
}

// passphrase returns the generated password of the newest sms.passphrase.
func (r *rig) passphrase() string {
	r.t.Helper()
	msgs := r.a.Outbox.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Message.Summary == "sms.passphrase" {
			body := msgs[i].Message.Body.Reveal()
			pw := strings.Fields(strings.TrimPrefix(body, "Your temporary password is:"))[0]
			pw = strings.TrimRight(pw, ".")
			r.secrets = append(r.secrets, pw)
			return pw
		}
	}
	r.t.Fatal("no passphrase in the outbox")
	return ""
}

// chatReset runs a chat reset with SMS and email codes up to the password
// prompt, for the account typed as login.
func (r *rig) chatVerify(user, flow, login string, factors ...string) engine.Reply {
	r.t.Helper()
	r.expect(r.send("slack", user, start(flow)), "identify", "identify.prompt")
	rep := r.send("slack", user, text(login))
	r.expect(rep, "verify_factor", "totp.prompt") // asked at once, the others beside it
	for i, f := range factors {
		// The first factor is picked beside the authenticator's prompt; a
		// later one is challenged at once unless it is offered beside
		// another's.
		if i == 0 || hasChoice(rep, f) {
			rep = r.send("slack", user, choice(f))
			r.expect(rep, "verify_factor", "")
		}
		rep = r.send("slack", user, text(r.code()))
	}
	return rep
}

// chatReset verifies with SMS then email and sets pw.
func (r *rig) chatReset(user, login, pw string) engine.Reply {
	r.t.Helper()
	rep := r.chatVerify(user, flows.FlowReset, login, "sms", "email")
	r.expect(rep, "new_password", "password.prompt")
	return r.send("slack", user, masked(pw, pw))
}

// assertNoLeaks runs the channel suite's one secret sweep (bottest.Sweep)
// over the logs, the audit records (as recorded, as JSON and as written to
// the audit file) and the stored values of a memory store, for every secret
// the test used.
func (r *rig) assertNoLeaks(extra ...string) {
	r.t.Helper()
	var b strings.Builder
	for _, e := range r.rec.Events() {
		fmt.Fprintf(&b, "%+v\n", e)
		if j, err := e.MarshalJSON(); err == nil {
			b.Write(j)
			b.WriteByte('\n')
		}
	}
	if f := r.a.Config.Audit.File; f != "" && f != "-" {
		data, err := os.ReadFile(f)
		if err != nil {
			r.t.Fatalf("audit file: %v", err)
		}
		b.Write(data)
	}
	if len(r.rec.Events()) == 0 {
		r.t.Error("no audit records at all: the sweep proves nothing")
	}
	c := bottest.Captured{Logs: r.logs.String(), Audit: b.String()}
	if _, ok := r.a.Store.(interface{ Dump() map[string][]byte }); ok {
		c.Stored = bottest.Dump(r.t, r.a.Store)
	}
	bottest.Sweep(r.t, c, append(append([]string(nil), r.secrets...), extra...)...)
}

func text(s string) engine.Input { return engine.Input{Kind: engine.InputText, Value: secret.New(s)} }
func digits(s string) engine.Input {
	return engine.Input{Kind: engine.InputDigits, Value: secret.New(s)}
}
func choice(id string) engine.Input { return engine.Input{Kind: engine.InputChoice, Choice: id} }
func start(f string) engine.Input   { return engine.Input{Kind: engine.InputStart, Flow: f} }
func masked(pw, again string) engine.Input {
	return engine.Input{Kind: engine.InputSecret, Value: secret.New(pw), Confirm: secret.New(again)}
}

// Config templates. The directories block is filled per test.
const demoHead = `mode: demo
store: {type: memory}
notify: {outbox: true, sms: {provider: outbox}}
audit: {file: "{{.AuditFile}}"}
password:
  min_length: {{if .MinLength}}{{.MinLength}}{{else}}15{{end}}
  banned_words: [resetbot]
regulation:
  send: {per_destination_per_hour: 100000, per_user_per_hour: 100000, global_per_hour: 100000}
{{.Extra}}
directories:
`

const slapdDir = `  - name: {{.SlapdName}}
    type: ldap
    domains: [example.org]
    ldap:
      url: {{.Slapd.LDAPSURL}}
      ca_file: {{.SlapdCA}}
      bind_dn: ` + testserver.SlapdBotDN + `
      bind_password: ` + testserver.SlapdBotPW + `
      base_dn: ` + testserver.SlapdPeopleDN + `
      protected_groups: ["` + testserver.SlapdTier0DN + `"]
      disabled_attribute: ` + testserver.SlapdDisabledAttr + `
      disabled_value: ` + testserver.SlapdDisabledValue + `
      attributes: {recovery_email: ` + testserver.SlapdRecoveryAttr + `}
      dial_timeout: 2s
      request_timeout: 5s
`

const sambaDir = `  - name: {{.SambaName}}
    type: ad
    domains: [` + testserver.SambaDomain + `]
    ad:
      url: {{.Samba.URL}}
      ca_file: {{.SambaCA}}
      bind_dn: ` + "{{.SambaBotDN}}" + `
      bind_password: "{{.SambaBotPW}}"
      base_dn: ` + testserver.SambaPeopleOU + `
      domain: ` + testserver.SambaDomain + `
      protected_groups: ["` + testserver.SambaProtectedGroupDN + `"]
      attributes: {recovery_email: ` + testserver.SambaRecoveryAttr + `}
      dial_timeout: 2s
      request_timeout: 5s
`

// env is the template data.
type env struct {
	Slapd      *testserver.SlapdServer
	SlapdCA    string
	SlapdName  string
	Samba      *testserver.SambaServer
	SambaCA    string
	SambaName  string
	SambaBotDN string
	SambaBotPW string
	MinLength  int
	// AuditFile is the audit log (default: a temporary file).
	AuditFile string
	// Extra is YAML inserted before the directories block.
	Extra string
}

func slapdEnv(s *testserver.SlapdServer) env {
	return env{Slapd: s, SlapdCA: s.CAFile, SlapdName: "openldap"}
}

func sambaEnv(s *testserver.SambaServer) env {
	return env{Samba: s, SambaCA: s.CAFile, SambaName: "samba",
		SambaBotDN: testserver.SambaBot.DN, SambaBotPW: testserver.SambaBot.Password}
}

// hasChoice reports whether the reply offers choice id (a menu or beside a field).
func hasChoice(rep engine.Reply, id string) bool {
	for _, o := range rep.Outputs {
		for _, c := range o.Expect.Choices {
			if c.ID == id {
				return true
			}
		}
	}
	return false
}
