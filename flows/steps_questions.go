package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"

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

// varQAsk is the question being asked at enrollment (an identifier). The
// verification round lives in the verification state.
const varQAsk = "qe"

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
			q := loadV(c.Session).Questions
			if q.Index >= len(q.Pick) {
				return
			}
			o := c.Say(d.questionMessage(q.Pick[q.Index]))
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
			v := loadV(s)
			pick, i := v.Questions.Pick, v.Questions.Index
			if i >= len(pick) {
				return "", d.pickQuestions(ctx, c)
			}
			if i == 0 {
				// A round is one attempt, counted before its first answer
				// is looked at.
				if ev, stop, err := d.gate(ctx, c, groupQuestions); stop {
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
				v.Questions.Wrong = true
			}
			if i+1 < len(pick) {
				v.Questions.Index = i + 1
				saveV(s, v)
				return "", nil
			}
			saveV(s, v)
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
	updateV(c.Session, func(v *verification) { v.Questions = questionRound{Pick: pick} })
	return nil
}

// questionsVerdict ends a round: all right completes verification; any wrong
// answer counts one failure and the round starts again with the same pick.
func (d *Deps) questionsVerdict(ctx context.Context, c *engine.Ctx) (string, error) {
	s := c.Session
	v := loadV(s)
	res := identity.Verified
	if v.Questions.Wrong {
		res = identity.Wrong
	}
	v.attempt(string(identity.FactorQuestions), res.String())
	v.Questions.Index, v.Questions.Wrong = 0, false
	saveV(s, v)
	outcome := audit.OutcomeFailure
	if res == identity.Verified {
		outcome = audit.OutcomeSuccess
	}
	c.Audit(ctx, audit.Event{Name: audit.NameVerifyAttempt, Factor: string(identity.FactorQuestions), Outcome: outcome})
	if res == identity.Verified {
		if err := d.Questions.Complete(ctx, s.Get(varUser)); err != nil {
			return "", fmt.Errorf("complete questions: %w", err)
		}
		if err := d.succeeded(ctx, c, groupQuestions); err != nil {
			return "", err
		}
		return d.verified(ctx, c)
	}
	if ev, stop, err := d.failed(ctx, c, groupQuestions, true); stop {
		return ev, err
	}
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
			d.notice(ctx, c, u, "notice.enroll")
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
