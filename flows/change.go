package flows

import (
	"github.com/looplab/fsm"

	"github.com/resetbot/resetbot/core/engine"
)

// FlowChange is "change my password": the person still has a working
// password (the expiry reminder's "Change it now" button starts it) and
// chooses the next one. It verifies with the same factors as a reset
// (Policy: change follows reset's requirement unless it has its own), takes
// the new password in the masked form, and sets it as the user's own: no
// "change at next logon" flag, unlike a reset by the help desk.
const FlowChange = "change"

// States of the change flow.
const (
	stChangePreflight = "change_preflight"
	stChangePassword  = "change_password"
)

// changeFlow is listed in the chat menu as "Change my password"; on the
// phone it is left out of the menu (ChatOnly) and answers
// "not by phone" if started anyway: nobody keys a password on a keypad.
func (d *Deps) changeFlow() *engine.Flow {
	ev := verifyEvents(stChangePreflight)
	ev = append(ev,
		fsm.EventDesc{Name: evOK, Src: []string{stChangePreflight}, Dst: stChangePassword},
		fsm.EventDesc{Name: evBlocked, Src: []string{stChangePreflight}, Dst: stBlocked},
		fsm.EventDesc{Name: evRetry, Src: []string{stChangePassword}, Dst: stChoose},
		fsm.EventDesc{Name: evDone, Src: []string{stChangePassword}, Dst: stDone},
	)
	ev = append(ev, exits(append(verifyStates, stChangePreflight, stChangePassword)...)...)
	steps := d.verifySteps()
	steps[stChangePreflight] = d.changePreflight()
	steps[stChangePassword] = d.changePassword()
	steps[stBlocked] = d.ended("preflight.next_steps", "blocked")
	steps[stDone] = final("change.done", true)
	return &engine.Flow{Name: FlowChange, Initial: stIdentify, Events: ev, Steps: steps, MessageID: "flow.change",
		Guard: d.guard, ChatOnly: true}
}
