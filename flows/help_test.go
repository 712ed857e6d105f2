package flows_test

import (
	"slices"
	"testing"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/flows"
)

// TestHelpAndAgentAtEveryPrompt: "help" is never taken as a login or an
// answer — it explains and asks the same question again — and "agent" (0 on
// the keypad) reaches a person from any question, the login prompt included.
func TestHelpAndAgentAtEveryPrompt(t *testing.T) {
	h := newHarness(t)
	msgs := func(r engine.Reply) []string {
		var out []string
		for _, o := range r.Outputs {
			out = append(out, o.MessageID)
		}
		return out
	}
	// Chat: help at the login prompt, at the first code and at another.
	h.send("slack", "H1", start(flows.FlowReset))
	for _, step := range []struct {
		in    engine.Input
		state string
	}{
		{text("help"), "identify"},
		{text("amartin"), "verify_factor"},
		{text("help"), "verify_factor"},
		{choice("sms"), "verify_factor"},
		{text("Help"), "verify_factor"},
	} {
		r := h.send("slack", "H1", step.in)
		if r.State != step.state {
			t.Fatalf("after %v: state %s, want %s (%v)", step.in.Kind, r.State, step.state, msgs(r))
		}
		if step.in.Kind == engine.InputText && step.state == r.State && !slices.Contains(msgs(r), engine.MsgHelp) &&
			step.in.Value.Reveal() != "amartin" {
			t.Fatalf("help answered %v", msgs(r))
		}
	}
	// Agent at the login prompt: escalated, not looked up as a login.
	h.send("slack", "H2", start(flows.FlowReset))
	if r := h.send("slack", "H2", text("agent")); r.State != "escalated" || !r.Ended {
		t.Fatalf("agent at the login prompt: %s %v", r.State, msgs(r))
	}
	// The phone: 0 at the employee-number prompt and at the factor menu.
	h.send("voice", "CH1", digits("1"))
	if r := h.send("voice", "CH1", digits("0")); r.State != "escalated" {
		t.Fatalf("0 at the employee number: %s %v", r.State, msgs(r))
	}
	h.send("voice", "CH2", digits("1"))
	h.send("voice", "CH2", digits("10041"))
	if r := h.send("voice", "CH2", digits("0")); r.State != "escalated" {
		t.Fatalf("0 at the factor menu: %s %v", r.State, msgs(r))
	}
}
