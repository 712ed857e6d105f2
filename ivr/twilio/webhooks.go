package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
)

const (
	// maxKeyed bounds keypad input; longer input is refused before the engine.
	maxKeyed = 20
	// maxSeq bounds the gather sequence number (the engine ends a call long before).
	maxSeq = 1000
	// maxBusyWaits bounds the redirects while an earlier turn of the call runs.
	maxBusyWaits = 3
)

// start shows the engine's menu in locale, with the keypad hint.
// chosen says loc is the caller's own choice (remembered or just made);
// menuHeard says it was just made in the language menu.
func (h *Handler) start(w http.ResponseWriter, r *http.Request, p callParams, loc string, chosen, menuHeard bool) {
	t := engine.Turn{Channel: Channel, ChannelUser: p.CallSid, DeliveryID: startID(p.CallSid, loc), Locale: loc, LocaleChosen: chosen,
		Hints: engine.Hints{Phone: p.From}, Input: engine.Input{Kind: engine.InputStart}}
	rep, ok := h.turn(r, t)
	if !ok {
		// Gather 1 resumes the start turn: same delivery, so its reply.
		h.hold(w, loc, 0, 0, 0)
		return
	}
	h.respond(w, view{locale: loc, reply: rep, seq: 1, hint: h.startHint(menuHeard)})
}

// turn runs t within the webhook's budget. ok is false when the turn is
// still running at the budget: the caller answers with a hold, and the turn
// goes on (detached from the request, bounded by turnLimit) so that the
// resuming request finds its reply under the same delivery ID.
//
// A turn that did nothing and must run again (Reply.Retry: the store
// unavailable, or the turn cut) is tried again within the budget; if it
// still cannot run, the caller is put on hold too, never told the fallback
// message as if it were the answer to the keys pressed.
func (h *Handler) turn(r *http.Request, t engine.Turn) (engine.Reply, bool) {
	done := make(chan engine.Reply, 1)
	retryUntil := time.Now().Add(h.cfg.TurnBudget - retryPause)
	h.runners.run(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), turnLimit)
		defer cancel()
		for {
			rep := h.eng.Handle(ctx, t)
			if !rep.Retry || time.Now().Add(retryPause).After(retryUntil) {
				done <- rep
				return
			}
			time.Sleep(retryPause)
		}
	})
	budget := time.NewTimer(h.cfg.TurnBudget)
	defer budget.Stop()
	select {
	case rep := <-done:
		if rep.Retry {
			h.cfg.Log.Warn("voice turn could not run (store unavailable); the caller is put on hold", "ref", rep.Ref)
			return engine.Reply{}, false
		}
		return rep, true
	case <-budget.C:
		h.cfg.Log.Warn("voice turn over budget; the caller is put on hold", "budget", h.cfg.TurnBudget)
		return engine.Reply{}, false
	}
}

// turnRunners runs voice turns on goroutines kept between turns. A fresh
// goroutine per turn started with a small stack and grew it, copying, deep
// in the store client: about 8% of a voice turn's CPU under load. A runner
// waits runnerIdle for the next turn, then exits, so only as many are kept
// as recent traffic ran at once; a turn finding none idle starts one.
type turnRunners struct{ work chan func() }

const runnerIdle = 10 * time.Second

func newTurnRunners() turnRunners { return turnRunners{work: make(chan func())} }

// run runs f on an idle runner, or on a new one.
func (r turnRunners) run(f func()) {
	select {
	case r.work <- f:
	default:
		go r.loop(f)
	}
}

func (r turnRunners) loop(f func()) {
	idle := time.NewTimer(runnerIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(runnerIdle)
		select {
		case f = <-r.work:
		case <-idle.C:
			return
		}
	}
}

// retryPause is the pause between tries of a turn that could not run.
const retryPause = 500 * time.Millisecond

// gather handles a key press or a silence.
func (h *Handler) gather(w http.ResponseWriter, r *http.Request, p callParams) {
	q := r.URL.Query()
	loc := h.locale(q.Get("l"))
	n, err1 := strconv.Atoi(q.Get("n"))
	sil, err2 := strconv.Atoi(q.Get("s"))
	waits, err3 := strconv.Atoi(q.Get("w"))
	if err := errors.Join(err1, err2, err3); err != nil || n < 0 || n > maxSeq || sil < 0 || waits < 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	t := engine.Turn{Channel: Channel, ChannelUser: p.CallSid, DeliveryID: p.CallSid + ":" + strconv.Itoa(n),
		Locale: loc, Hints: engine.Hints{Phone: p.From}}
	v := view{locale: loc, seq: n + 1}
	keyed, ok := cleanDigits(p.Digits)
	if q.Get("m") == "1" && keyed == keySwitchLanguage && waits == 0 && len(h.cfg.Languages) > 1 {
		// Nine on the main menu: another language.
		h.write(w, h.languageMenu(h.auth.URL(PathLanguage)))
		return
	}
	switch {
	case waits > 0:
		// A redirect resuming turn n after a hold or a busy answer. It
		// carries no digits (keypad input stays out of URLs): the engine
		// answers it with turn n's reply, once that turn has run. A turn
		// that could not run (the store unavailable) runs now with the keys
		// this process kept for it. Should turn n have died with its
		// process, this runs in its place and the question is asked again:
		// never silence, never a key press taken for another question.
		t.Input = engine.Input{Kind: engine.InputDigits, Value: secret.New(engine.DigitsRepeat)}
		if keys, ok := h.held.take(t.DeliveryID, time.Now()); ok {
			t.Input.Value = keys
		}
	case n == 0:
		// Only the hold of a start turn redirects here with n 0.
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	case keyed == "" && ok:
		t.Input = engine.Input{Kind: engine.InputTimeout}
	case !ok:
		// Garbage or overlong input: say so and repeat the question. The
		// value is neither logged nor passed on.
		t.Input = engine.Input{Kind: engine.InputDigits, Value: secret.New(engine.DigitsRepeat)}
		v.pre = append(v.pre, engine.MsgBadChoice)
	default:
		t.Input = engine.Input{Kind: engine.InputDigits, Value: secret.New(keyed)}
	}
	if n == 0 {
		// Resuming a start turn (hold in start): same delivery ID.
		// Whether the language menu was heard is not known here: the hint
		// names nine.
		t.DeliveryID, t.Input, v.seq, v.hint = startID(p.CallSid, loc), engine.Input{Kind: engine.InputStart}, 1, h.startHint(false)
	}
	var done bool
	if v.reply, done = h.turn(r, t); !done {
		if t.Input.Kind == engine.InputDigits && t.Input.Value.Reveal() != engine.DigitsRepeat {
			h.held.put(t.DeliveryID, t.Input.Value, time.Now())
		}
		h.hold(w, loc, n, sil, waits)
		return
	}
	if v.reply.Closed {
		// A gather arriving after the call ended only hangs up.
		h.write(w, []twiml.Element{&twiml.VoiceHangup{}})
		return
	}
	if v.reply.Last().MessageID == engine.MsgBusy && len(v.reply.Outputs) == 1 {
		h.busy(w, loc, n, sil, waits)
		return
	}
	if rl := v.reply.Locale; rl != "" && rl != loc && h.offered(rl) {
		// The conversation switched to the account's preferred language
		// (only ever after verification): the next call starts in it.
		h.remember(r.Context(), p.From, rl)
	}
	if v.reply.Flow == "" && !v.reply.Ended {
		h.menuTurn(w, &v, t.Input, keyed, sil)
		return
	}
	h.respond(w, v)
}

// menuTurn handles turns answered by the engine's menu (no session yet):
// zero is a transfer, silence counts towards goodbye, a wrong key is said so.
func (h *Handler) menuTurn(w http.ResponseWriter, v *view, in engine.Input, keyed string, sil int) {
	switch {
	case keyed == engine.DigitsEscalate:
		v.reply.Outputs, v.reply.Ended, v.reply.State = nil, true, "escalated"
	case in.Kind == engine.InputTimeout:
		if sil+1 >= 2 {
			h.write(w, h.goodbye(v.locale, "twilio.expired"))
			return
		}
		v.pre, v.silences = append(v.pre, engine.MsgNoInput), sil+1
	case keyed != engine.DigitsRepeat && len(v.pre) == 0:
		v.pre = append(v.pre, "common.unknown_command")
	}
	h.respond(w, *v)
}

// busy answers while an earlier turn of this call is still running: a short
// pause, then the same gather URL again without digits, which replays the
// stored reply of that turn once it is done (same DeliveryID).
func (h *Handler) busy(w http.ResponseWriter, loc string, n, sil, waits int) {
	if waits >= maxBusyWaits {
		h.write(w, h.goodbye(loc, "twilio.busy"))
		return
	}
	h.write(w, []twiml.Element{&twiml.VoicePause{Length: "1"},
		&twiml.VoiceRedirect{Method: http.MethodPost, Url: h.gatherURL(loc, n, sil, waits+1)}})
}

// hold answers a turn that did not finish within the budget: a short hold
// prompt, then a redirect that resumes it (see gather).
func (h *Handler) hold(w http.ResponseWriter, loc string, n, sil, waits int) {
	if waits >= maxBusyWaits {
		h.write(w, h.goodbye(loc, "twilio.busy"))
		return
	}
	// The hold prompt is inside a one-second gather posting to the resume
	// URL, so a key interrupts it like any prompt (barge-in). Keys pressed
	// here are not taken as an answer: the resume ignores them (see gather).
	resume := h.gatherURL(loc, n, sil, waits+1)
	h.write(w, []twiml.Element{&twiml.VoiceGather{Input: "dtmf", NumDigits: "1", Timeout: "1", Action: resume,
		Method: http.MethodPost, ActionOnEmptyResult: "true",
		InnerElements: []twiml.Element{h.say(loc, h.msgs.Text(loc, "twilio.hold", true, nil))}},
		&twiml.VoiceRedirect{Method: http.MethodPost, Url: resume}})
}

// status handles the call's status callback: a call that ended cancels its
// session and closes the conversation in the same turn (Turn.Close), so late
// gathers of the call hang up without a store lookup of their own.
func (h *Handler) status(w http.ResponseWriter, r *http.Request, p callParams) {
	switch p.CallStatus {
	case "completed", "busy", "no-answer", "failed", "canceled":
		h.eng.Handle(r.Context(), engine.Turn{Channel: Channel, ChannelUser: p.CallSid,
			DeliveryID: p.CallSid + ":end", Input: engine.Input{Kind: engine.InputCancel}, Close: true})
	}
	w.WriteHeader(http.StatusNoContent)
}

// cleanDigits returns keypad input without the finish key. ok is false for
// anything but digits and star, or more than maxKeyed keys.
func cleanDigits(d string) (string, bool) {
	for len(d) > 0 && d[len(d)-1] == '#' {
		d = d[:len(d)-1]
	}
	if len(d) > maxKeyed {
		return "", false
	}
	for i := 0; i < len(d); i++ {
		if (d[i] < '0' || d[i] > '9') && d[i] != '*' {
			return "", false
		}
	}
	return d, true
}

// startID is the delivery ID of a call's start turn in loc: a caller who
// switches language at the menu starts again with an ID of its own.
func startID(callSid, loc string) string { return callSid + ":0:" + loc }

func (h *Handler) gatherURL(loc string, n, sil, waits int) string {
	q := url.Values{"l": {loc}, "n": {strconv.Itoa(n)}, "s": {strconv.Itoa(sil)}, "w": {strconv.Itoa(waits)}}
	return h.auth.URL(PathGather + "?" + q.Encode())
}

func (h *Handler) timeout() string {
	return strconv.Itoa(max(1, int(h.cfg.GatherTimeout/time.Second)))
}
