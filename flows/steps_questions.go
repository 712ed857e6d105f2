package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/questions"
	"github.com/resetbot/resetbot/core/secret"
)

// Questions is what the flows need of the security-question verifier
// (core/identity/questions). Answers are checked and staged one per turn:
// the package keeps what must persist between turns sealed in its store.
type Questions interface {
	Enrolled(ctx context.Context, userKey string) ([]string, error)
	Pick(ctx context.Context, userKey string) ([]string, error)
	Check(ctx context.Context, userKey, id string, answer secret.String) (identity.Result, error)
	Complete(ctx context.Context, userKey string) error
	Stage(ctx context.Context, userKey, id string, answer secret.String) error
	Staged(ctx context.Context, userKey string) ([]string, error)
	Commit(ctx context.Context, userKey string) error
	Catalog() []questions.Question
}

// Session variables of the question steps: identifiers and flags only.
const (
	varQPick  = "qp" // the picked question IDs, comma separated
	varQIndex = "qi" // which of them is being asked
	varQWrong = "qw" // "1": an earlier answer in this round was wrong
	varQAsk   = "qe" // the question being asked at enrollment
)

// needQuestions reports whether the policy adds security questions after the
// counted factors for this flow, and the user can answer them. Questions are
// never a factor of their own; on the phone they are not asked (spoken
// answers would reach the speech recogniser; keypad answers are too weak).
func (d *Deps) needQuestions(ctx context.Context, c *engine.Ctx) (bool, error) {
	if d.Questions == nil || c.Voice || !d.Policy.asksQuestions(c.Session.Flow) {
		return false, nil
	}
	ids, err := d.Questions.Enrolled(ctx, c.Session.Get(varUser))
	if err != nil && !errors.Is(err, identity.ErrNotEnrolled) {
		return false, fmt.Errorf("questions enrolled: %w", err)
	}
	return len(ids) > 0, nil
}

// questionMessage returns the catalog message asking question id.
func (d *Deps) questionMessage(id string) string {
	for _, q := range d.Questions.Catalog() {
		if q.ID == id {
			return q.MessageID
		}
	}
	return "questions.unknown"
}

// verifyQuestions asks the user's picked questions one per turn, in a masked
// field, and says only at the end whether all were right — never which.
func (d *Deps) verifyQuestions() engine.Step {
	return engine.Step{
		Auto: true,
		Prompt: func(_ context.Context, c *engine.Ctx) {
			pick := strings.Split(c.Session.Get(varQPick), ",")
			i := c.Session.Int(varQIndex)
			if i >= len(pick) {
				return
			}
			o := c.Say(d.questionMessage(pick[i]))
			o.Sensitive = true
			o.Expect = engine.Expect{Kind: engine.ExpectSecret, FieldID: "questions.field"}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			s := c.Session
			if in.Kind == 0 {
				return "", d.pickQuestions(ctx, c)
			}
			if in.Kind != engine.InputSecret {
				c.Say("questions.use_form").Error = true
				return "", nil
			}
			pick := strings.Split(s.Get(varQPick), ",")
			i := s.Int(varQIndex)
			if i == 0 {
				// A round is one attempt, counted before its first answer
				// is looked at.
				if ev, stop, err := d.gate(ctx, c, identity.FactorQuestions); stop {
					return ev, err
				}
			}
			res, err := d.Questions.Check(ctx, s.Get(varUser), pick[i], in.Value)
			if err != nil {
				return "", fmt.Errorf("check answer: %w", err)
			}
			if res == identity.Expired {
				return "", d.pickQuestions(ctx, c)
			}
			if res != identity.Verified {
				s.Set(varQWrong, "1")
			}
			if i+1 < len(pick) {
				s.SetInt(varQIndex, i+1)
				return "", nil
			}
			return d.questionsVerdict(ctx, c)
		},
	}
}

// pickQuestions starts a round with the user's (sticky) pick.
func (d *Deps) pickQuestions(ctx context.Context, c *engine.Ctx) error {
	pick, err := d.Questions.Pick(ctx, c.Session.Get(varUser))
	if err != nil {
		return fmt.Errorf("pick questions: %w", err)
	}
	c.Session.Set(varQPick, strings.Join(pick, ","))
	c.Session.SetInt(varQIndex, 0)
	c.Session.Set(varQWrong, "")
	return nil
}

// questionsVerdict ends a round: all right completes verification; any wrong
// answer counts one failure and the round starts again with the same pick.
func (d *Deps) questionsVerdict(ctx context.Context, c *engine.Ctx) (string, error) {
	s := c.Session
	res := identity.Verified
	if s.Get(varQWrong) == "1" {
		res = identity.Wrong
	}
	addTrail(s, string(identity.FactorQuestions), res.String())
	outcome := audit.OutcomeFailure
	if res == identity.Verified {
		outcome = audit.OutcomeSuccess
	}
	c.Audit(ctx, audit.Event{Name: audit.NameVerifyAttempt, Factor: string(identity.FactorQuestions), Outcome: outcome})
	s.SetInt(varQIndex, 0)
	s.Set(varQWrong, "")
	if res == identity.Verified {
		if err := d.Questions.Complete(ctx, s.Get(varUser)); err != nil {
			return "", fmt.Errorf("complete questions: %w", err)
		}
		if err := d.Regulator.Succeed(ctx, regKeys(c, string(identity.FactorQuestions))...); err != nil {
			return "", fmt.Errorf("regulation success: %w", err)
		}
		return d.verified(ctx, c)
	}
	dec, err := d.fail(ctx, c, identity.FactorQuestions)
	if err != nil {
		return "", err
	}
	if !dec.Allowed {
		return d.denied(c, dec)
	}
	c.EqualizeTo(d.Floor + dec.Delay)
	c.Say("questions.wrong").Error = true
	return "", nil
}

// enrollQuestions stages one answer per turn, in catalog order, until the
// package accepts the set (at least its minimum number of answers).
func (d *Deps) enrollQuestions() engine.Step {
	return engine.Step{
		Auto: true,
		Prompt: func(_ context.Context, c *engine.Ctx) {
			id := c.Session.Get(varQAsk)
			if id == "" {
				return
			}
			o := c.Say(d.questionMessage(id))
			o.Sensitive = true
			o.Expect = engine.Expect{Kind: engine.ExpectSecret, FieldID: "questions.field"}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			if d.Questions == nil || c.Voice {
				c.Say("enroll.unavailable")
				return engine.EventCancel, nil
			}
			if !fresh(c) {
				c.Say("verify.stale")
				return engine.EventExpire, nil
			}
			u, ev, err := d.account(ctx, c)
			if ev != "" || err != nil {
				return ev, err
			}
			key := userKey(u)
			if in.Kind == 0 {
				c.Say("enroll.questions.intro")
				return "", d.nextQuestion(ctx, c, key)
			}
			if in.Kind != engine.InputSecret {
				c.Say("questions.use_form").Error = true
				return "", nil
			}
			err = d.Questions.Stage(ctx, key, c.Session.Get(varQAsk), in.Value)
			if errors.Is(err, identity.ErrInvalidInput) {
				c.Say("questions.rejected").Error = true
				return "", nil
			}
			if err != nil {
				return "", fmt.Errorf("stage answer: %w", err)
			}
			err = d.Questions.Commit(ctx, key)
			if errors.Is(err, questions.ErrTooFewAnswers) {
				return "", d.nextQuestion(ctx, c, key)
			}
			if err != nil {
				return "", fmt.Errorf("commit answers: %w", err)
			}
			c.Audit(ctx, audit.Event{Name: "enroll.done", Factor: string(identity.FactorQuestions), Outcome: audit.OutcomeSuccess})
			d.noticeAll(ctx, c, u, "notice.enroll")
			d.report(ctx, c, HandoffDone, "", "")
			return evDone, nil
		},
	}
}

// nextQuestion picks the first catalog question not answered yet.
func (d *Deps) nextQuestion(ctx context.Context, c *engine.Ctx, key string) error {
	staged, err := d.Questions.Staged(ctx, key)
	if err != nil {
		return fmt.Errorf("staged answers: %w", err)
	}
	for _, q := range d.Questions.Catalog() {
		if !slices.Contains(staged, q.ID) {
			c.Session.Set(varQAsk, q.ID)
			return nil
		}
	}
	return errors.New("questions: every catalog question is answered but the set was refused")
}
