package flows

import (
	"crypto/rand"
	"errors"
	"log/slog"

	"github.com/looplab/fsm"

	"github.com/resetbot/resetbot/core/engine"
)

// Flow names.
const (
	FlowReset  = "reset"
	FlowUnlock = "unlock"
	FlowEnroll = "enroll"
	// FlowVerify is agent-assisted verification: the help desk asks the bot
	// to check that the person it is talking to holds the account's factors.
	FlowVerify = "verify"
)

// States shared by the flows.
const (
	stIdentify     = "identify"
	stDisambiguate = "disambiguate"
	stChoose       = "choose_factor"
	stVerify       = "verify_factor"
	stReadback     = "readback"
	stPreflight    = "preflight"
	stNewPassword  = "new_password"
	stPassphrase   = "passphrase"
	stUnlock       = "unlock"
	stEnrollTOTP   = "enroll_totp"
	stQuestions    = "verify_questions"
	stEnrollChoose = "enroll_choose"
	stEnrollQ      = "enroll_questions"
	stDone         = "done"
	stBlocked      = "blocked"
	stCancelled    = "cancelled"
	stEscalated    = "escalated"
	stLockedOut    = "locked_out"
	stExpired      = "expired"
)

// Events of this file's tables.
const (
	// evKeypad leads a phone reset to the generated passphrase.
	evKeypad = "keypad"
	// evQuestions adds the security questions after the counted factors.
	evQuestions = "questions"
	// evEnrollTOTP and evEnrollQuestions pick what to enroll.
	evEnrollTOTP      = "enroll_app"
	evEnrollQuestions = "enroll_questions"
)

// New returns the reset, unlock, enroll and change flows (and the hidden
// help-desk verify flow) bound to d, in menu order.
func New(d Deps) ([]*engine.Flow, error) {
	if d.Directory == nil || d.Methods == nil || d.Passwords == nil || d.Regulator == nil || d.Renderer == nil || len(d.Senders) == 0 {
		return nil, errors.New("flows: directory, methods, passwords, regulator, renderer and senders are required")
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	if d.CodeDigits == 0 {
		d.CodeDigits = 6
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if len(d.Policy.Require) == 0 {
		d.Policy = DefaultPolicy()
	}
	dp := &d
	return []*engine.Flow{dp.resetFlow(), dp.unlockFlow(), dp.enrollFlow(), dp.verifyFlow(), dp.changeFlow()}, nil
}

// verifyEvents is the identify-and-verify part every flow shares; next is the
// state a completed verification leads to.
func verifyEvents(next string) fsm.Events {
	return fsm.Events{
		{Name: evIdentified, Src: []string{stIdentify, stDisambiguate}, Dst: stChoose},
		{Name: evAmbiguous, Src: []string{stIdentify}, Dst: stDisambiguate},
		{Name: evChallenge, Src: []string{stChoose, stVerify}, Dst: stVerify},
		{Name: evOther, Src: []string{stChoose, stVerify}, Dst: stIdentify},
		{Name: evMore, Src: []string{stVerify}, Dst: stChoose},
		{Name: evRetry, Src: []string{stVerify}, Dst: stChoose},
		{Name: evQuestions, Src: []string{stVerify}, Dst: stQuestions},
		{Name: evVerified, Src: []string{stVerify, stQuestions}, Dst: next},
		{Name: evLockedOut, Src: []string{stIdentify, stChoose, stVerify, stQuestions}, Dst: stLockedOut},
	}
}

// exits lets every listed state cancel, escalate and expire.
func exits(states ...string) fsm.Events {
	return fsm.Events{
		{Name: engine.EventCancel, Src: states, Dst: stCancelled},
		{Name: engine.EventEscalate, Src: states, Dst: stEscalated},
		{Name: engine.EventExpire, Src: states, Dst: stExpired},
	}
}

func (d *Deps) verifySteps() map[string]engine.Step {
	return map[string]engine.Step{
		stIdentify:     d.identify(),
		stDisambiguate: d.disambiguate(),
		stChoose:       d.chooseFactor(),
		stVerify:       d.verifyFactor(),
		stQuestions:    d.verifyQuestions(),
		stCancelled:    d.ended("common.cancelled", "cancelled"),
		stExpired:      d.ended("common.expired", "expired"),
		stEscalated:    d.escalated("user_request"),
		stLockedOut:    d.escalated("lockout"),
	}
}

var verifyStates = []string{stIdentify, stDisambiguate, stChoose, stVerify, stQuestions}

func (d *Deps) resetFlow() *engine.Flow {
	ev := verifyEvents(stPreflight)
	ev = append(ev,
		fsm.EventDesc{Name: evOK, Src: []string{stPreflight}, Dst: stNewPassword},
		fsm.EventDesc{Name: evKeypad, Src: []string{stPreflight}, Dst: stPassphrase},
		fsm.EventDesc{Name: evBlocked, Src: []string{stPreflight}, Dst: stBlocked},
		fsm.EventDesc{Name: evRetry, Src: []string{stNewPassword}, Dst: stChoose},
		fsm.EventDesc{Name: evDone, Src: []string{stNewPassword, stPassphrase}, Dst: stDone},
	)
	ev = append(ev, exits(append(verifyStates, stPreflight, stNewPassword, stPassphrase)...)...)
	steps := d.verifySteps()
	steps[stPreflight] = d.preflight()
	steps[stNewPassword] = d.newPassword()
	steps[stPassphrase] = d.passphrase()
	steps[stBlocked] = d.ended("preflight.next_steps", "blocked")
	steps[stDone] = completed("reset.done")
	return &engine.Flow{Name: FlowReset, Initial: stIdentify, Events: ev, Steps: steps, MessageID: "flow.reset",
		Guard: d.guard}
}

func (d *Deps) unlockFlow() *engine.Flow {
	ev := verifyEvents(stPreflight)
	ev = append(ev,
		fsm.EventDesc{Name: evOK, Src: []string{stPreflight}, Dst: stUnlock},
		fsm.EventDesc{Name: evBlocked, Src: []string{stPreflight}, Dst: stBlocked},
		fsm.EventDesc{Name: evRetry, Src: []string{stUnlock}, Dst: stChoose},
		fsm.EventDesc{Name: evDone, Src: []string{stUnlock}, Dst: stDone},
	)
	ev = append(ev, exits(append(verifyStates, stPreflight, stUnlock)...)...)
	steps := d.verifySteps()
	steps[stPreflight] = d.preflight()
	steps[stUnlock] = d.unlock()
	steps[stBlocked] = d.ended("preflight.next_steps", "blocked")
	steps[stDone] = completed("unlock.done")
	return &engine.Flow{Name: FlowUnlock, Initial: stIdentify, Events: ev, Steps: steps, MessageID: "flow.unlock",
		Guard: d.guard}
}

func (d *Deps) enrollFlow() *engine.Flow {
	ev := verifyEvents(stEnrollChoose)
	ev = append(ev,
		fsm.EventDesc{Name: evEnrollTOTP, Src: []string{stEnrollChoose}, Dst: stEnrollTOTP},
		fsm.EventDesc{Name: evEnrollQuestions, Src: []string{stEnrollChoose}, Dst: stEnrollQ},
		fsm.EventDesc{Name: evDone, Src: []string{stEnrollTOTP, stEnrollQ}, Dst: stDone},
		fsm.EventDesc{Name: evLockedOut, Src: []string{stEnrollTOTP}, Dst: stLockedOut},
	)
	ev = append(ev, exits(append(verifyStates, stEnrollChoose, stEnrollTOTP, stEnrollQ)...)...)
	steps := d.verifySteps()
	steps[stEnrollChoose] = d.enrollChoose()
	steps[stEnrollTOTP] = d.enrollTOTP()
	steps[stEnrollQ] = d.enrollQuestions()
	steps[stDone] = completed("enroll.done")
	return &engine.Flow{Name: FlowEnroll, Initial: stIdentify, Events: ev, Steps: steps, MessageID: "flow.enroll",
		Guard: d.guard, ChatOnly: true}
}

// verifyFlow verifies the person for the help desk and binds the result to
// the caller: after the factors, the person is shown a one-time phrase to
// read back to the agent, and only the agent's entry of it makes the
// handoff "verified" (steps_assist.go). It is hidden: it starts from a
// help-desk handoff, never from the menu.
func (d *Deps) verifyFlow() *engine.Flow {
	ev := verifyEvents(stReadback)
	ev = append(ev, fsm.EventDesc{Name: evDone, Src: []string{stReadback}, Dst: stDone})
	ev = append(ev, exits(append(verifyStates, stReadback)...)...)
	steps := d.verifySteps()
	steps[stReadback] = d.readback()
	steps[stDone] = final("assist.done", true)
	return &engine.Flow{Name: FlowVerify, Initial: stIdentify, Events: ev, Steps: steps, Hidden: true, Guard: d.guard}
}
