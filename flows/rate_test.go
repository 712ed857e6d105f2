package flows_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/flows"
)

// unlockDone runs a chat or phone unlock to its end.
func unlockDone(t *testing.T, h *harness, channel, user string) engine.Reply {
	t.Helper()
	h.send(channel, user, start(flows.FlowUnlock))
	if channel == "voice" {
		h.send(channel, user, digits("10063")) // Chiara's employee number
	} else {
		h.send(channel, user, text("chiara.rossi@demo.example"))
	}
	h.send(channel, user, choice("voice"))
	r := h.send(channel, user, digits(h.code()))
	if r.State != "done" {
		t.Fatalf("unlock ended in %s", r.State)
	}
	return r
}

// TestRatingAfterCompletion: the goodbye comes first and whole; the rating
// question follows it, optional. A rating is audited once (flow.rating);
// silence, a hang-up, a stale button or anything else records nothing and
// never blocks the next conversation.
func TestRatingAfterCompletion(t *testing.T) {
	t.Run("button", func(t *testing.T) {
		h := newHarness(t)
		r := unlockDone(t, h, "teams", "A1")
		if len(r.Outputs) != 2 || r.Outputs[0].MessageID != "unlock.done" || r.Outputs[1].MessageID != engine.MsgRateAsk || r.Ended {
			t.Fatalf("completion reply %v ended=%v", ids(r), r.Ended)
		}
		if n := len(h.rec.Find("flow.end")); n != 1 {
			t.Fatalf("%d flow.end before the rating, want 1 (the completion is recorded at once)", n)
		}
		in := choice(engine.ChoiceRateUp)
		in.State = r.Step
		r = h.send("teams", "A1", in)
		if !r.Ended || len(r.Outputs) != 1 || r.Outputs[0].MessageID != engine.MsgRateThanks {
			t.Fatalf("after the rating: %v ended=%v", ids(r), r.Ended)
		}
		ev := h.rec.Find(engine.NameRating)
		if len(ev) != 1 || ev[0].Reason != "up" || ev[0].Flow != "unlock" || ev[0].Channel != "teams" || ev[0].Ref == "" {
			t.Fatalf("rating events %+v", ev)
		}
		// The same click again is a new conversation's stray input: no
		// second rating.
		h.send("teams", "A1", in)
		if n := len(h.rec.Find(engine.NameRating)); n != 1 {
			t.Fatalf("%d ratings after a repeated click", n)
		}
		h.assertNoLeaks()
	})
	t.Run("phone key", func(t *testing.T) {
		h := newHarness(t)
		unlockDone(t, h, "voice", "CA1")
		r := h.send("voice", "CA1", digits("2"))
		if ev := h.rec.Find(engine.NameRating); len(ev) != 1 || ev[0].Reason != "down" || !r.Ended {
			t.Fatalf("rating %+v ended=%v", ev, r.Ended)
		}
	})
	t.Run("silence", func(t *testing.T) {
		h := newHarness(t)
		unlockDone(t, h, "voice", "CA2")
		r := h.send("voice", "CA2", engine.Input{Kind: engine.InputTimeout})
		if !r.Ended || len(r.Outputs) != 0 || len(h.rec.Find(engine.NameRating)) != 0 {
			t.Fatalf("silence: %v ended=%v, %d ratings", ids(r), r.Ended, len(h.rec.Find(engine.NameRating)))
		}
	})
	t.Run("stale button", func(t *testing.T) {
		h := newHarness(t)
		unlockDone(t, h, "teams", "A3")
		in := choice(engine.ChoiceRateUp)
		in.State = "done@0123456789"
		h.send("teams", "A3", in)
		if n := len(h.rec.Find(engine.NameRating)); n != 0 {
			t.Fatalf("a button of another conversation rated this one (%d)", n)
		}
	})
	t.Run("next conversation", func(t *testing.T) {
		h := newHarness(t)
		unlockDone(t, h, "slack", "U5")
		r := h.send("slack", "U5", text("I forgot my password"))
		if r.Flow != flows.FlowReset || r.State != "identify" || len(h.rec.Find(engine.NameRating)) != 0 {
			t.Fatalf("after skipping the rating: %s/%s %v", r.Flow, r.State, ids(r))
		}
	})
}

func ids(r engine.Reply) []string {
	var out []string
	for _, o := range r.Outputs {
		out = append(out, o.MessageID)
	}
	return out
}
