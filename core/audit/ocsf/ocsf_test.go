package ocsf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/audit/ocsf"
	"github.com/resetbot/resetbot/core/audit/ocsf/ocsftest"
)

// events is one of every audit event resetbot writes, as the engine fills
// them in (reference, session hash, channel, actor).
func events() []audit.Event {
	at := time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC)
	base := audit.Event{Time: at, Ref: "R-7KQ2M", Session: audit.HashSession("s1"), Channel: "slack",
		Actor: "uid=amartin,ou=people,dc=example,dc=org", Flow: "reset"}
	mk := func(e audit.Event) audit.Event {
		e.Time, e.Ref, e.Session, e.Channel, e.Flow = base.Time, base.Ref, base.Session, base.Channel, base.Flow
		if e.Actor == "" {
			e.Actor = base.Actor
		}
		return e
	}
	return []audit.Event{
		mk(audit.Event{Name: "flow.start"}),
		mk(audit.Event{Name: audit.NameTransition, From: "identify", To: "choose_factor", Event: "identified"}),
		mk(audit.Event{Name: audit.NameCodeSent, Factor: "sms", Destination: audit.MaskPhone("+15555550101")}),
		mk(audit.Event{Name: audit.NameVerifyAttempt, Factor: "sms", Outcome: audit.OutcomeFailure, Reason: "bad_code"}),
		mk(audit.Event{Name: audit.NameVerifyAttempt, Factor: "totp", Outcome: audit.OutcomeSuccess, Reason: "ok"}),
		mk(audit.Event{Name: "totp.replay", Factor: "totp", Outcome: audit.OutcomeDenied}),
		mk(audit.Event{Name: audit.NameRegulationDenied, Factor: "sms", Reason: "send_budget"}),
		mk(audit.Event{Name: "regulation.notice", Factor: "totp", Reason: "paused"}),
		mk(audit.Event{Name: audit.NameResetDone, Outcome: audit.OutcomeSuccess}),
		mk(audit.Event{Name: audit.NameUnlockDone, Outcome: audit.OutcomeSuccess}),
		mk(audit.Event{Name: "enroll.done", Factor: "totp", Outcome: audit.OutcomeSuccess}),
		mk(audit.Event{Name: "flow.end", Outcome: "locked_out"}),
		mk(audit.Event{Name: "flow.end", Outcome: "done"}),
		mk(audit.Event{Name: audit.NameEscalation, Reason: "user_asked"}),
		mk(audit.Event{Name: "flow.rating", Reason: "up", Outcome: audit.OutcomeSuccess}),
		{Time: at, Name: audit.NameAuthnRejected, Channel: "teams", Actor: "teams:29:abc", Reason: "bad_jwt", Ref: "R-AAAAA"},
		mk(audit.Event{Name: "abuse.alarm", Reason: "identity_many_accounts", Fields: map[string]string{"count": "4"}}),
		mk(audit.Event{Name: "change.done", Outcome: audit.OutcomeSuccess}),
		// Added with the fast path, outreach and redelivery work: each must
		// validate too.
		{Time: at, Name: "flow.start", Channel: "voice", Actor: "voice:CA1", Ref: "R-CALL1",
			Fields: map[string]string{audit.FieldCaller: "+15555550101"}},
		mk(audit.Event{Name: "outreach.lockout", Outcome: audit.OutcomeSuccess, Reason: "sent"}),
		mk(audit.Event{Name: "outreach.answer", Reason: "unlock"}),
		mk(audit.Event{Name: "outreach.spray", Reason: "accounts", Fields: map[string]string{"count": "20"}}),
		mk(audit.Event{Name: "outreach.expiry", Outcome: audit.OutcomeSuccess, Reason: "sent"}),
		mk(audit.Event{Name: "reply.failed", Outcome: audit.OutcomeFailure}),
		mk(audit.Event{Name: "flow.superseded"}),
	}
}

func encode(t *testing.T, evs []audit.Event) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	w := ocsf.NewWriter(&buf, "test")
	for _, e := range evs {
		if err := w.Write(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	lines := bytes.Split(bytes.TrimRight(buf.Bytes(), "\n"), []byte("\n"))
	if len(lines) != len(evs) {
		t.Fatalf("%d lines for %d events", len(lines), len(evs))
	}
	return lines
}

// TestEveryEventValidates validates each emitted event against the OCSF
// classes it claims (fixture from OCSF 1.3.0) and checks it carries the
// reference the user saw.
func TestEveryEventValidates(t *testing.T) {
	evs := events()
	for i, line := range encode(t, evs) {
		for _, err := range ocsftest.Validate(line) {
			t.Errorf("%s: %v\n%s", evs[i].Name, err, line)
		}
		var got ocsf.Event
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatal(err)
		}
		if got.Metadata.CorrelationUID != evs[i].Ref || got.Metadata.UID != evs[i].Ref {
			t.Errorf("%s: reference %q/%q, want %q", evs[i].Name, got.Metadata.UID, got.Metadata.CorrelationUID, evs[i].Ref)
		}
		if got.Metadata.Version != ocsftest.Version() {
			t.Errorf("metadata.version %q", got.Metadata.Version)
		}
	}
}

func TestMapping(t *testing.T) {
	want := map[string][2]int{ // name(+outcome) -> class, activity
		"reset.done":          {3001, 4},
		"change.done":         {3001, 3},
		"unlock.done":         {3001, 99},
		"enroll.done":         {3001, 10},
		"flow.end/locked_out": {3001, 9},
		"verify.attempt":      {3002, 99},
		"totp.replay":         {3002, 99},
		"authn.rejected":      {3002, 99},
		"regulation.denied":   {2004, 1},
		"flow.transition":     {0, 99},
		"escalation":          {0, 99},
	}
	for _, e := range events() {
		k := e.Name
		if e.Name == "flow.end" && e.Outcome == "locked_out" {
			k += "/locked_out"
		}
		w, ok := want[k]
		if !ok {
			continue
		}
		got := ocsf.Map(e, ocsf.Product{Name: "resetbot", Vendor: "resetbot"})
		if got.ClassUID != w[0] || got.ActivityID != w[1] {
			t.Errorf("%s: class %d activity %d, want %v", k, got.ClassUID, got.ActivityID, w)
		}
		delete(want, k)
	}
	if len(want) > 0 {
		t.Errorf("not exercised: %v", want)
	}
	f := ocsf.Map(audit.Event{Name: "verify.attempt", Factor: "sms", Outcome: "failure"}, ocsf.Product{})
	if f.StatusID != ocsf.StatusFailure || f.IsMFA == nil || !*f.IsMFA {
		t.Errorf("failed factor check: status %d mfa %v", f.StatusID, f.IsMFA)
	}
}

// TestValidatorCatchesErrors proves the validator can fail.
func TestValidatorCatchesErrors(t *testing.T) {
	good := encode(t, events()[8:9])[0] // reset.done
	var m map[string]any
	_ = json.Unmarshal(good, &m)
	for name, mutate := range map[string]func(map[string]any){
		"no user":       func(m map[string]any) { delete(m, "user") },
		"bad type_uid":  func(m map[string]any) { m["type_uid"] = 300199 },
		"bad activity":  func(m map[string]any) { m["activity_id"] = 12; m["type_uid"] = 300112 },
		"string time":   func(m map[string]any) { m["time"] = "yesterday" },
		"no product":    func(m map[string]any) { delete(m["metadata"].(map[string]any), "product") },
		"unknown field": func(m map[string]any) { m["password"] = "x" },
	} {
		c := map[string]any{}
		b, _ := json.Marshal(m)
		_ = json.Unmarshal(b, &c)
		mutate(c)
		b, _ = json.Marshal(c)
		if len(ocsftest.Validate(b)) == 0 {
			t.Errorf("%s: validator found nothing wrong", name)
		}
	}
}

// TestNoSecret sweeps the OCSF output for secrets that reached an event's
// Fields under a secret-sounding key, and for the raw values of typed input.
func TestNoSecret(t *testing.T) {
	const pw, code = "Tr0ub4dor&3-horse", "918273"
	e := events()[3]
	e.Fields = map[string]string{"code": code, "new_password": pw, "try": "2"}
	out := bytes.Join(encode(t, []audit.Event{e}), nil)
	for _, s := range []string{pw, code} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("secret %q in OCSF output: %s", s, out)
		}
	}
	if !strings.Contains(string(out), `"fields.try":"2"`) {
		t.Errorf("harmless field dropped: %s", out)
	}
}

// TestInjection: a typed login with a newline stays inside one line.
func TestInjection(t *testing.T) {
	e := audit.Event{Name: "verify.attempt", Actor: "slack:U1\n{\"class_uid\":3001}", Ref: "R-1", Channel: "slack"}
	lines := encode(t, []audit.Event{e})
	if len(lines) != 1 {
		t.Fatalf("%d lines", len(lines))
	}
}
