package flows_test

import (
	"context"
	"testing"

	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/flows"
)

// TestChatChange: the "Change it now" button starts the change flow, which
// verifies like a reset (two groups here), takes the masked form, tells
// refusals with their reason, and sets the password without the
// must-change flag; notices go to every channel of record.
func TestChatChange(t *testing.T) {
	h := newHarness(t)
	h.send("slack", "U1", choice("flow:"+flows.FlowChange))
	h.send("slack", "U1", text("amartin"))
	h.send("slack", "U1", choice("sms"))
	h.send("slack", "U1", text(h.code())) // the email code is sent at once
	h.send("slack", "U1", text(h.code()))
	h.send("slack", "U1", text("Correct-Horse-Battery-9"))      // typed in the chat: refused
	h.send("slack", "U1", masked("Sh0rt-pw", "Sh0rt-pw"))       // local policy, with the reason
	h.send("slack", "U1", masked("Orchid-Canyon-Drift-5", "x")) // mismatch
	r := h.send("slack", "U1", masked("Orchid-Canyon-Drift-5", "Orchid-Canyon-Drift-5"))
	if r.Flow != flows.FlowChange || r.State != "done" || !r.Ended {
		t.Fatalf("ended in %s/%s", r.Flow, r.State)
	}
	ctx := context.Background()
	if !h.dir.Bind(ctx, "amartin", secret.New("Orchid-Canyon-Drift-5")) || h.dir.Bind(ctx, "amartin", secret.New("Winter-Garden-42")) {
		t.Fatal("new password does not bind, or the old one still does")
	}
	if h.dir.MustChange(alice) {
		t.Fatal("a change left the must-change flag: the user would be asked again at next logon")
	}
	assertNoticed(t, h, "notice.change", "sms:+15555550101", "email:alice@personal.example", "chat:alice.martin@demo.example")
	var done int
	for _, e := range h.rec.Events() {
		if e.Name == "change.done" && e.Outcome == "success" {
			done++
		}
	}
	if done != 1 {
		t.Errorf("audit has %d successful change.done records, want 1", done)
	}
	h.secrets = append(h.secrets, "Orchid-Canyon-Drift-5", "Correct-Horse-Battery-9")
	h.assertNoLeaks()
	h.golden("chat_change")
}

// TestChangeNeedsWhatResetNeeds: one phone code is not enough for a change
// when it is not enough for a reset.
func TestChangeNeedsWhatResetNeeds(t *testing.T) {
	h := newHarness(t)
	h.send("slack", "U2", choice("flow:"+flows.FlowChange))
	h.send("slack", "U2", text("amartin"))
	h.send("slack", "U2", choice("sms"))
	r := h.send("slack", "U2", text(h.code()))
	more := false
	for _, o := range r.Outputs {
		more = more || o.MessageID == "verify.ok_more"
	}
	if r.State == "change_password" || r.Ended || !more {
		t.Fatalf("after one phone code the change is in %s (outputs %v), want a second factor asked", r.State, r.Outputs)
	}
}

// TestPhoneChangeRefused: a call cannot carry the masked form.
func TestPhoneChangeRefused(t *testing.T) {
	h := newHarness(t)
	h.send("voice", "CA9", start(flows.FlowChange))
	h.send("voice", "CA9", digits("10041"))
	h.send("voice", "CA9", digits("2"))      // sms
	h.send("voice", "CA9", digits(h.code())) // the email code is sent at once
	r := h.send("voice", "CA9", digits(h.code()))
	if r.State != "blocked" || !r.Ended {
		t.Fatalf("phone change ended in %s", r.State)
	}
	h.assertNoLeaks()
}
