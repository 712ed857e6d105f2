package flows_test

import (
	"context"
	"fmt"
	"github.com/resetbot/resetbot/core/alarm"
	"strings"
	"sync"
	"testing"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/flows"
)

// fakeHandoffs records reports and knows one handoff and one phone code.
type fakeHandoffs struct {
	mu      sync.Mutex
	live    map[string]flows.HandoffInfo
	codes   map[string]string // code -> handoff id
	reports []string
	tried   int               // Redeem calls
	phrases map[string]string // handoff id -> read-back phrase shown
}

func (f *fakeHandoffs) AwaitReadback(_ context.Context, id string, phrase secret.String) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.phrases == nil {
		f.phrases = map[string]string{}
	}
	f.phrases[id] = phrase.Reveal()
	return nil
}

// confirm plays the agent entering what the caller read back: only the
// phrase shown makes the handoff verified (and finished).
func (f *fakeHandoffs) confirm(id, heard string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.phrases[id] == "" || f.phrases[id] != strings.ReplaceAll(heard, " ", "") {
		return false
	}
	f.reports = append(f.reports, id+":verified:readback", id+":done:readback")
	delete(f.live, id)
	return true
}

func newFakeHandoffs() *fakeHandoffs {
	return &fakeHandoffs{
		live:  map[string]flows.HandoffInfo{"H1": {ID: "H1", Action: "reset", User: "bao.nguyen@demo.example"}, "H2": {ID: "H2", Action: "verify", User: "amartin"}},
		codes: map[string]string{"4821337790": "H1"},
	}
}

func (f *fakeHandoffs) Lookup(_ context.Context, id string) (flows.HandoffInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.live[id]
	if !ok {
		return h, flows.ErrNoHandoff
	}
	return h, nil
}

func (f *fakeHandoffs) Redeem(_ context.Context, code secret.String) (flows.HandoffInfo, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tried++
	id, ok := f.codes[code.Reveal()]
	delete(f.codes, code.Reveal())
	return f.live[id], ok, nil
}

func (f *fakeHandoffs) Report(_ context.Context, id, status, factor, _, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports = append(f.reports, id+":"+status+":"+factor)
	return nil
}

func TestHandoffSkipsIdentificationNotVerification(t *testing.T) {
	fh := newFakeHandoffs()
	h := newHarness(t, func(d *flows.Deps) { d.Handoffs = fh })
	r := h.send("slack", "U7", engine.Input{Kind: engine.InputStart, Flow: flows.FlowReset, Handoff: "H1"})
	if r.State != "verify_factor" {
		t.Fatalf("handoff start ended in %s", r.State)
	}
	h.send("slack", "U7", choice("sms"))
	h.send("slack", "U7", text(h.code())) // the email code is sent at once
	h.send("slack", "U7", text(h.code()))
	if r := h.send("slack", "U7", masked("Orchid-Falcon-Meadow-3", "Orchid-Falcon-Meadow-3")); r.State != "done" {
		t.Fatalf("ended in %s", r.State)
	}
	want := []string{"H1:started:", "H1:verified:email", "H1:done:"}
	if len(fh.reports) != len(want) {
		t.Fatalf("reports %v", fh.reports)
	}
	for i := range want {
		if fh.reports[i] != want[i] {
			t.Fatalf("reports %v, want %v", fh.reports, want)
		}
	}
	h.secrets = append(h.secrets, "Orchid-Falcon-Meadow-3")
	h.assertNoLeaks()
	h.golden("handoff_reset")
}

func TestPhoneHandoffCodeIsSingleUse(t *testing.T) {
	fh := newFakeHandoffs()
	h := newHarness(t, func(d *flows.Deps) { d.Handoffs = fh })
	h.send("voice", "CA7", digits("1"))
	if r := h.send("voice", "CA7", digits("4821337790")); r.State != "verify_factor" || fh.reports[0] != "H1:started:" {
		t.Fatalf("code not redeemed: %s %v", r.State, fh.reports)
	}
	// A second call with the same code is an unknown employee number: it
	// continues as an unknown user would, with no handoff.
	h.send("voice", "CA8", digits("1"))
	h.send("voice", "CA8", digits("4821337790"))
	if len(fh.reports) != 1 {
		t.Fatalf("reused code acted: %v", fh.reports)
	}
}

// TestEmployeeNumbersNeverTriedAsCodes: handoff codes are longer than
// employee numbers (8 digits is common), so a caller typing an employee
// number never spends the shared wrong-code budget nor lands in someone
// else's handoff, and a code is never looked up as an employee number.
func TestEmployeeNumbersNeverTriedAsCodes(t *testing.T) {
	if flows.HandoffCodeDigits == 8 || flows.HandoffCodeDigits < 10 {
		t.Fatalf("handoff codes of %d digits collide with 8-digit employee numbers", flows.HandoffCodeDigits)
	}
	fh := newFakeHandoffs()
	h := newHarness(t, func(d *flows.Deps) { d.Handoffs = fh })
	for i, emp := range []string{"20261205", "10041", "482133779"} {
		call := fmt.Sprintf("CE%d", i)
		h.send("voice", call, digits("1"))
		h.send("voice", call, digits(emp))
	}
	if fh.tried != 0 || len(fh.reports) != 0 {
		t.Fatalf("an identifier was tried as a handoff code (%d tries, reports %v)", fh.tried, fh.reports)
	}
	h.send("voice", "CE9", digits("1"))
	if r := h.send("voice", "CE9", digits("4821337790")); fh.tried != 1 || r.State != "verify_factor" {
		t.Fatalf("a %d-digit code was not redeemed: %d tries, %s", flows.HandoffCodeDigits, fh.tried, r.State)
	}
}

// TestAgentAssistedVerification: the person who verifies in the DM must
// also be the caller. Verifying factors is not enough; only the agent
// entering the number the DM showed makes the handoff verified, and "Not me"
// fails it with a security alert.
func TestAgentAssistedVerification(t *testing.T) {
	fh := newFakeHandoffs()
	rec := &packets{}
	h := newHarness(t, func(d *flows.Deps) { d.Handoffs = fh; d.Escalator = rec })
	r := h.send("teams", "A7", engine.Input{Kind: engine.InputStart, Flow: flows.FlowVerify, Handoff: "H2"})
	if r.Outputs[0].MessageID != "assist.intro" || !hasChoice(r, "not_me") {
		t.Fatalf("the DM does not say the help desk asked, or offers no Not me: %v", r.Outputs)
	}
	h.send("teams", "A7", choice("sms"))
	r = h.send("teams", "A7", text(h.code()))
	if r.State != "readback" || r.Outputs[0].MessageID != "assist.readback" || !r.Outputs[0].Sensitive {
		t.Fatalf("no read-back after the factors: %s %v", r.State, r.Outputs)
	}
	phrase := r.Outputs[0].Args["phrase"]
	h.secrets = append(h.secrets, strings.ReplaceAll(phrase, " ", ""))
	for _, rep := range fh.reports {
		if strings.Contains(rep, ":verified") {
			t.Fatalf("verified before the read-back: %v", fh.reports)
		}
	}
	if fh.confirm("H2", "000 000") {
		t.Fatal("a wrong read-back verified")
	}
	if !fh.confirm("H2", phrase) {
		t.Fatal("the read-back did not verify")
	}
	if r := h.send("teams", "A7", text("ok")); r.State != "done" {
		t.Fatalf("ended in %s", r.State)
	}
	// Not me, before verifying: the handoff fails and an alert goes out.
	fh.live["H3"] = flows.HandoffInfo{ID: "H3", Action: "verify", User: "bnguyen"}
	h.send("teams", "A8", engine.Input{Kind: engine.InputStart, Flow: flows.FlowVerify, Handoff: "H3"})
	if r := h.send("teams", "A8", choice("not_me")); r.State != "escalated" {
		t.Fatalf("not me ended in %s", r.State)
	}
	// Not me, after verifying (the real owner sees a read-back they did not
	// ask for): the same.
	fh.live["H4"] = flows.HandoffInfo{ID: "H4", Action: "verify", User: "fhaddad"}
	h.send("teams", "A9", engine.Input{Kind: engine.InputStart, Flow: flows.FlowVerify, Handoff: "H4"})
	h.send("teams", "A9", choice("sms"))
	h.send("teams", "A9", text(h.code()))
	if r := h.send("teams", "A9", choice("not_me")); r.State != "escalated" {
		t.Fatalf("not me after the factors ended in %s", r.State)
	}
	if got := strings.Join(fh.reports, " "); !strings.Contains(got, "H3:failed:") || !strings.Contains(got, "H4:failed:") ||
		strings.Contains(got, "H3:verified") || strings.Contains(got, "H4:verified") {
		t.Fatalf("reports %v", fh.reports)
	}
	if len(rec.p) != 2 || !rec.p[0].Alert || rec.p[0].Reason != "not_me" || rec.p[1].Reason != "not_me" {
		t.Fatalf("no security alert: %+v", rec.p)
	}
	// The abuse alarms (core/alarm) count "Not me" by this audit event.
	if n := len(h.rec.Find(alarm.NameNotMe)); n != 2 {
		t.Fatalf("%d %s audit events, want 2", n, alarm.NameNotMe)
	}
	h.assertNoLeaks()
	h.golden("assist_verify")
}

func hasChoice(r engine.Reply, id string) bool {
	for _, o := range r.Outputs {
		for _, c := range o.Expect.Choices {
			if c.ID == id {
				return true
			}
		}
	}
	return false
}

func TestHiddenFlowNeedsAHandoff(t *testing.T) {
	h := newHarness(t, func(d *flows.Deps) { d.Handoffs = newFakeHandoffs() })
	for _, in := range []engine.Input{start(flows.FlowVerify), choice("flow:verify"), text("verify")} {
		if r := h.send("slack", "U8", in); r.Flow == flows.FlowVerify {
			t.Fatalf("%v started the hidden flow", in.Kind)
		}
	}
	for _, o := range h.send("slack", "U8", text("hello")).Outputs {
		for _, c := range o.Expect.Choices {
			if c.ID == "flow:verify" {
				t.Fatal("hidden flow offered in the menu")
			}
		}
	}
	// An unknown handoff identifies nobody: the person is asked who they are.
	if r := h.send("slack", "U9", engine.Input{Kind: engine.InputStart, Flow: flows.FlowReset, Handoff: "nope"}); r.State != "identify" {
		t.Fatalf("unknown handoff ended in %s", r.State)
	}
}

type packets struct {
	mu sync.Mutex
	p  []flows.Escalation
}

func (r *packets) Escalate(_ context.Context, e flows.Escalation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.p = append(r.p, e)
	return nil
}

func TestEscalationPacketHasContextNotSecrets(t *testing.T) {
	rec := &packets{}
	h := newHarness(t, func(d *flows.Deps) { d.Escalator = rec })
	h.send("slack", "U10", start(flows.FlowReset))
	h.send("slack", "U10", text("amartin"))
	h.send("slack", "U10", choice("sms"))
	c := h.code()
	h.send("slack", "U10", text("999999"))
	h.send("slack", "U10", text("agent"))
	if len(rec.p) != 1 {
		t.Fatalf("%d packets", len(rec.p))
	}
	p := rec.p[0]
	if p.Login != "amartin" || p.Reason != "user_request" || p.Ref == "" || len(p.Factors) != 1 ||
		p.Factors[0].Factor != "sms" || p.Factors[0].Outcome != "wrong" {
		t.Fatalf("packet %+v", p)
	}
	want := []string{"identify.prompt", "totp.prompt", "code.prompt.sms", "verify.wrong", "code.prompt.again"}
	if strings.Join(p.Messages, ",") != strings.Join(want, ",") {
		t.Fatalf("messages %v", p.Messages)
	}
	if strings.Contains(fmt.Sprintf("%+v", p), c) || strings.Contains(fmt.Sprintf("%+v", p), "999999") {
		t.Fatal("a code reached the packet")
	}
}

func TestNewerConversationSupersedesOlder(t *testing.T) {
	st := storemem.New()
	h := newHarnessOn(t, st, func(d *flows.Deps) {
		d.Active = st
		d.Policy.Require[flows.FlowReset] = flows.Requirement{Default: 1}
		d.Policy.PhoneAlone = true
	})
	h.send("slack", "U20", start(flows.FlowReset))
	h.send("slack", "U20", text("amartin"))
	h.send("slack", "U20", choice("sms"))
	if r := h.send("slack", "U20", text(h.code())); r.State != "new_password" {
		t.Fatalf("older: %s", r.State)
	}
	// Typing the login elsewhere is not enough to end it: only a newer
	// verified conversation is.
	h.send("voice", "CA20", digits("1"))
	h.send("voice", "CA20", digits("10041"))
	h.send("voice", "CA20", digits("2"))
	if r := h.send("slack", "U20", masked("x", "y")); r.State != "new_password" {
		t.Fatalf("identification alone superseded: %s", r.State)
	}
	h.send("voice", "CA20", digits(h.code()))
	r := h.send("slack", "U20", masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7"))
	if r.State != "expired" || r.Outputs[0].MessageID != "common.superseded" || len(h.rec.Find("flow.superseded")) != 1 {
		t.Fatalf("older conversation went on: %s %v", r.State, r.Outputs)
	}
	if h.dir.Bind(context.Background(), "amartin", secret.New("Lantern-Violet-Ocean-7")) {
		t.Fatal("the superseded conversation changed the password")
	}
}
