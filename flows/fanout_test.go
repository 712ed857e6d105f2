package flows_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/fanout"
	"github.com/resetbot/resetbot/core/secret"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/flows"
)

// recTarget records the passwords pushed to it, failing when down.
type recTarget struct {
	name, label string
	cons        fanout.Constraints
	down        bool
	mu          sync.Mutex
	got         []string
}

func (r *recTarget) Name() string                    { return r.name }
func (r *recTarget) Label() string                   { return r.label }
func (r *recTarget) Constraints() fanout.Constraints { return r.cons }
func (r *recTarget) Push(_ context.Context, q fanout.Request) error {
	if r.down {
		return errors.New("connection refused")
	}
	r.mu.Lock()
	r.got = append(r.got, q.User.Login+"="+q.Password.Reveal())
	r.mu.Unlock()
	return nil
}

// withFanout wires a real core/fanout with targets on the demo directory; its
// own audit records go to rec.
func withFanout(t *testing.T, rec *audit.Recorder, ts ...*recTarget) func(*flows.Deps) {
	return func(d *flows.Deps) {
		var es []fanout.Entry
		for _, x := range ts {
			es = append(es, fanout.Entry{Target: x, Timeout: time.Second})
		}
		kr, _ := crypt.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{4}, 32)})
		f, err := fanout.New(fanout.Options{Targets: map[string][]fanout.Entry{"demo": es}, Store: storemem.New(), Keyring: kr, Audit: rec})
		if err != nil {
			t.Fatal(err)
		}
		d.Fanout = f
	}
}

// TestFanoutRefusalNamesTheSystemBeforeAnythingChanges: a password one
// connected system would refuse is refused before the primary changes,
// naming the system; a fitting one then reaches every system, and the person
// is told which have it and which will follow.
func TestFanoutRefusalNamesTheSystemBeforeAnythingChanges(t *testing.T) {
	vpn := &recTarget{name: "vpn", label: "VPN (Kerberos)", cons: fanout.Constraints{MaxLength: 20}}
	hr := &recTarget{name: "hr", label: "the HR system", down: true}
	frec := &audit.Recorder{}
	h := newHarness(t, oneFactor, withFanout(t, frec, vpn, hr))
	if r := verified(h, "U4", flows.FlowReset, "amartin"); r.State != "new_password" {
		t.Fatalf("state %s", r.State)
	}
	const long, good = "Lantern-Violet-Ocean-Seven", "Lantern-Violet-Sea7"
	h.secrets = append(h.secrets, long, good)
	r := h.send("slack", "U4", masked(long, long))
	if r.State != "new_password" || !said(h, "fanout.refused.too_long") {
		t.Fatalf("state %s; transcript:\n%s", r.State, strings.Join(h.lines, "\n"))
	}
	if text := h.cat.Text("en", "fanout.refused.too_long", false, map[string]string{"target": vpn.label, "n": "20"}); !strings.Contains(text, "VPN (Kerberos)") {
		t.Fatalf("refusal does not name the system: %q", text)
	}
	if h.dir.Bind(context.Background(), "amartin", secret.New(long)) || len(vpn.got) != 0 {
		t.Fatal("the refused password reached a system")
	}
	if r := h.send("slack", "U4", masked(good, good)); r.State != "done" {
		t.Fatalf("state %s", r.State)
	}
	if !h.dir.Bind(context.Background(), "amartin", secret.New(good)) || len(vpn.got) != 1 || vpn.got[0] != "amartin="+good {
		t.Fatalf("primary or VPN not updated: %v", vpn.got)
	}
	if !said(h, "fanout.done") || !said(h, "fanout.pending") {
		t.Fatalf("the person was not told:\n%s", strings.Join(h.lines, "\n"))
	}
	if len(frec.Find(fanout.NamePush)) != 2 || len(h.rec.Find(fanout.NameRefused)) != 1 {
		t.Fatalf("audit: %v / %v", frec.Names(), h.rec.Names())
	}
	h.assertNoLeaks()
}

// TestPhonePassphraseFansOut: the phone path's generated passphrase reaches
// the connected systems like a typed password.
func TestPhonePassphraseFansOut(t *testing.T) {
	vpn := &recTarget{name: "vpn", label: "VPN"}
	h := newHarness(t, withFanout(t, &audit.Recorder{}, vpn))
	h.send("voice", "CA1", digits("1"))
	h.send("voice", "CA1", digits("10041"))
	h.send("voice", "CA1", digits("2"))
	h.send("voice", "CA1", digits(h.code()))
	h.send("voice", "CA1", digits("4"))
	if r := h.send("voice", "CA1", digits(h.code())); r.State != "done" {
		t.Fatalf("ended in %s", r.State)
	}
	pw := ""
	for _, m := range h.box.Messages() {
		if m.Message.Summary == "sms.passphrase" {
			pw = strings.Fields(strings.TrimPrefix(m.Message.Body.Reveal(), "Your temporary password is:"))[0]
		}
	}
	h.secrets = append(h.secrets, pw)
	if len(vpn.got) != 1 || vpn.got[0] != "amartin="+pw || !said(h, "fanout.done") {
		t.Fatalf("passphrase not fanned out: %d pushes", len(vpn.got))
	}
	h.assertNoLeaks()
}

// TestPhonePassphraseRefusedByTargetEscalates: a generated passphrase that a
// system would refuse changes nothing and goes to the help desk.
func TestPhonePassphraseRefusedByTargetEscalates(t *testing.T) {
	vpn := &recTarget{name: "vpn", label: "VPN", cons: fanout.Constraints{MaxLength: 4}}
	h := newHarness(t, withFanout(t, &audit.Recorder{}, vpn))
	h.send("voice", "CA1", digits("1"))
	h.send("voice", "CA1", digits("10041"))
	h.send("voice", "CA1", digits("2"))
	h.send("voice", "CA1", digits(h.code()))
	h.send("voice", "CA1", digits("4"))
	if r := h.send("voice", "CA1", digits(h.code())); r.State != "escalated" {
		t.Fatalf("ended in %s", r.State)
	}
	if len(vpn.got) != 0 || len(h.rec.Find(fanout.NameRefused)) != 1 || said(h, "fanout.refused") {
		t.Fatalf("pushes %d, audit %v", len(vpn.got), h.rec.Names())
	}
	h.assertNoLeaks()
}
