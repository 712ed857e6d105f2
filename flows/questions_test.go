package flows_test

import (
	"bytes"
	"testing"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity/questions"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/flows"
)

// zeros is a deterministic random source, so the picked questions (and the
// golden transcript) are always the same.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// questionsHarness runs the flows with security questions added to the reset
// flow (small argon2 parameters keep the test fast).
func questionsHarness(t *testing.T) *harness {
	st := storemem.New()
	return newHarnessOn(t, st, func(d *flows.Deps) {
		kr, _ := crypt.NewKeyring("q1", map[string][]byte{"q1": bytes.Repeat([]byte{3}, 32)})
		catalog := []questions.Question{{ID: "first_pet", MessageID: "question.first_pet"},
			{ID: "first_street", MessageID: "question.first_street"}, {ID: "birth_city", MessageID: "question.birth_city"}}
		d.Questions = questions.New(st, kr, questions.Options{Catalog: catalog, Ask: 2, MinEnrolled: 3, Rand: zeros{},
			Argon2: questions.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
		d.Policy.Require[flows.FlowReset] = flows.Requirement{Default: 1, Questions: true}
		d.Policy.PhoneAlone = true
	})
}

func secretInput(s string) engine.Input { return masked(s, "") }

func TestQuestionsEnrollThenAsked(t *testing.T) {
	h := questionsHarness(t)
	answers := map[string]string{"question.first_pet": "Fluffy", "question.first_street": "Elm Street", "question.birth_city": "Lisbon"}
	h.send("slack", "U11", start(flows.FlowEnroll))
	h.send("slack", "U11", text("bnguyen"))
	h.send("slack", "U11", choice("sms"))
	h.send("slack", "U11", text(h.code()))
	r := h.send("slack", "U11", choice("enroll_questions"))
	for i := 0; i < 3 && !r.Ended; i++ {
		if i == 0 {
			h.send("slack", "U11", text("Fluffy")) // typed in the chat: refused
		}
		a := answers[r.Last().MessageID]
		if a == "" {
			t.Fatalf("asked %s", r.Last().MessageID)
		}
		h.secrets = append(h.secrets, a)
		r = h.send("slack", "U11", secretInput(a))
	}
	if r.State != "done" {
		t.Fatalf("enroll ended in %s", r.State)
	}
	// A reset now asks two of the three questions after the code, one per
	// turn; a wrong answer restarts the round without saying which was wrong.
	h.send("slack", "U12", start(flows.FlowReset))
	h.send("slack", "U12", text("bnguyen"))
	h.send("slack", "U12", choice("sms"))
	r = h.send("slack", "U12", text(h.code()))
	if r.State != "verify_questions" {
		t.Fatalf("after the code: %s", r.State)
	}
	first := r.Last().MessageID
	r = h.send("slack", "U12", secretInput("wrong answer"))
	second := r.Last().MessageID
	r = h.send("slack", "U12", secretInput(answers[second]))
	if r.State != "verify_questions" || r.Outputs[0].MessageID != "questions.wrong" || r.Last().MessageID != first {
		t.Fatalf("wrong round: %s %v", r.State, r.Outputs)
	}
	h.send("slack", "U12", secretInput("  "+answers[first]+" ")) // normalised
	r = h.send("slack", "U12", secretInput(answers[second]))
	if r.State != "new_password" {
		t.Fatalf("after the questions: %s", r.State)
	}
	h.assertNoLeaks()
	h.golden("questions")
	// On the phone they are never asked, even to an enrolled user.
	h.send("voice", "CA12", digits("1"))
	h.send("voice", "CA12", digits("10057"))
	h.send("voice", "CA12", digits("2"))
	if r := h.send("voice", "CA12", digits(h.code())); r.State != "done" {
		t.Fatalf("phone: %s", r.State)
	}
}

func TestQuestionsSkippedWhenNotEnrolledOrByPhone(t *testing.T) {
	h := questionsHarness(t)
	h.send("slack", "U13", start(flows.FlowReset))
	h.send("slack", "U13", text("amartin"))
	h.send("slack", "U13", choice("sms"))
	if r := h.send("slack", "U13", text(h.code())); r.State != "new_password" {
		t.Fatalf("not enrolled: %s", r.State)
	}
}
