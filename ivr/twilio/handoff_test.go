package twilio_test

import (
	"context"
	"testing"

	"github.com/resetbot/resetbot/core/handoff"
)

// TestHandoffCodeIdentifies: the ten-digit code the help desk gave the
// caller, keyed at the identify prompt in one entry, identifies the account
// (verification follows, as for an employee number, and the handoff is
// started), and is spoken and logged nowhere. Single use is core/handoff's.
func TestHandoffCodeIdentifies(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ho, err := h.a.Handoffs.Store.Create(ctx, handoff.Handoff{Action: handoff.ActionReset, User: "amartin",
		Channel: "sms", Requester: "apikey:test"})
	if err != nil {
		t.Fatal(err)
	}
	code, _, err := h.a.Handoffs.Store.IssueCode(ctx, ho.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := h.call("CA600")
	c.start("1")
	mustContain(t, c.press("1"), "help desk code")
	d := c.press(code.Reveal())
	mustContain(t, d, "Text message, press 2") // verification follows
	if got, err := h.a.Handoffs.Store.Get(ctx, ho.ID); err != nil || got.Status != handoff.StatusStarted {
		t.Fatalf("the handoff is %v (%v), want started", got.Status, err)
	}
	h.assertNoSecrets(code.Reveal())
}
