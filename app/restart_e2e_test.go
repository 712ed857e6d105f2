package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	potp "github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/flows"
)

// restartYAML keeps state in bolt with fixed keys, so enrollments survive a
// restart; the memory demo directory is rebuilt on each start.
const restartYAML = `mode: demo
store: {type: bolt, bolt: {path: "{{.AuditFile}}"}}
keys:
  encryption: "k1:` + "{{.SlapdName}}" + `"
  hmac: "{{.SambaName}}"
notify: {outbox: true, sms: {provider: outbox}}
audit: {file: "-"}
directories:
  - name: demo
    type: memory
`

// fakeClock is a settable clock shared by both builds.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestEnrollmentSurvivesRestart enrolls an authenticator app, closes the
// app, builds it again from the same configuration and resets with a TOTP
// code: the enrollment came back from the bolt file, unsealed by the
// configured key.
func TestEnrollmentSurvivesRestart(t *testing.T) {
	// Template fields reused for the bolt path and the two keys.
	data := env{
		AuditFile: filepath.Join(t.TempDir(), "resetbot.db"),
		SlapdName: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 32)),
		SambaName: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, 48)),
	}
	cfg := yamlConfig(t, restartYAML, data)
	if cfg.KeysGenerated {
		t.Fatal("keys were generated; the configured ones must be used")
	}
	cfg.Audit.File = "" // keep stdout quiet; the recorder gets the events
	clock := &fakeClock{now: time.Now().Truncate(30 * time.Second)}
	log, logs := loggingtest.Capture(t)
	rec := &audit.Recorder{}
	build := func() *rig {
		a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log, Audit: rec, Clock: clock.Now})
		if err != nil {
			t.Fatalf("build: %v", err)
		}
		return &rig{t: t, a: a, logs: logs, rec: rec}
	}
	totpCode := func(r *rig, seed string) string {
		c, err := potp.GenerateCodeCustom(seed, clock.Now(), potp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		r.secrets = append(r.secrets, c, seed)
		return c
	}

	r := build()
	rep := r.chatVerify("E1", flows.FlowEnroll, "fhaddad", "sms", "email") // a reset's two factors
	r.expect(rep, "enroll_totp", "enroll.totp.scan")
	var seed string
	for _, o := range rep.Outputs {
		if o.Attachment != nil {
			seed = o.Attachment.Text.Reveal()
		}
	}
	if seed == "" {
		t.Fatal("no QR attachment with the seed")
	}
	r.expect(r.send("slack", "E1", text(totpCode(r, seed))), "done", "enroll.done")
	secrets := r.secrets
	if err := r.a.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	clock.Add(time.Minute) // a fresh TOTP step: the enrollment code is spent
	r = build()
	t.Cleanup(func() { _ = r.a.Close() })
	r.secrets = secrets
	r.expect(r.send("slack", "E2", start(flows.FlowReset)), "identify", "")
	r.expect(r.send("slack", "E2", text("fhaddad")), "verify_factor", "totp.prompt")
	r.expect(r.send("slack", "E2", text(totpCode(r, seed))), "verify_factor", "verify.ok_more") // the text message follows at once
	r.expect(r.send("slack", "E2", text(r.code())), "new_password", "password.prompt")
	const pw = "Pebble-Quartz-Anchor-5"
	r.expect(r.send("slack", "E2", masked(pw, pw)), "done", "reset.done")
	r.assertNoLeaks(pw, data.SlapdName, data.SambaName)
}

// TestRestartNeedsTheSameKey: the same bolt file opened
// with a different encryption key cannot unseal the enrollment, and the
// user is not let through with TOTP.
func TestRestartNeedsTheSameKey(t *testing.T) {
	data := env{
		AuditFile: filepath.Join(t.TempDir(), "resetbot.db"),
		SlapdName: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x11}, 32)),
		SambaName: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x22}, 48)),
	}
	cfg := yamlConfig(t, restartYAML, data)
	cfg.Audit.File = ""
	clock := &fakeClock{now: time.Now().Truncate(30 * time.Second)}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, a: a, rec: &audit.Recorder{}}
	rep := r.chatVerify("E1", flows.FlowEnroll, "fhaddad", "sms", "email")
	var seed string
	for _, o := range rep.Outputs {
		if o.Attachment != nil {
			seed = o.Attachment.Text.Reveal()
		}
	}
	c, _ := potp.GenerateCodeCustom(seed, clock.Now(), potp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	r.expect(r.send("slack", "E1", text(c)), "done", "enroll.done")
	_ = a.Close()

	clock.Add(time.Minute)
	data.SlapdName = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x33}, 32))
	cfg2 := yamlConfig(t, restartYAML, data)
	cfg2.Audit.File = ""
	a2, err := app.Build(context.Background(), cfg2, app.Options{Floor: -1, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a2.Close() })
	r.a = a2
	r.send("slack", "E2", start(flows.FlowReset))
	r.send("slack", "E2", text("fhaddad"))
	r.send("slack", "E2", choice("totp"))
	c, _ = potp.GenerateCodeCustom(seed, clock.Now(), potp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	rep = r.send("slack", "E2", text(c))
	if hasOutput(rep, "verify.ok_more") || rep.State == "new_password" {
		t.Fatalf("a TOTP code passed with the enrollment sealed under another key: %v", ids(rep))
	}
	// Today the unreadable enrollment is an infrastructure error (a
	// catalogued common.error with a reference), never a pass.
	t.Logf("with the wrong key: state %s, outputs %v", rep.State, ids(rep))
}
