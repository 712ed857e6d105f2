package twilio

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/twilio/twilio-go/twiml"

	"github.com/resetbot/resetbot/core/engine"
)

// States after which the caller is transferred to the help desk.
var transferStates = map[string]bool{"escalated": true, "locked_out": true}

// voiceIDs replaces messages heard on every call with shorter phone wording
// (a full reset call must stay near a minute of speech), and ones whose chat
// wording does not suit a call.
var voiceIDs = map[string]string{
	engine.MsgExpired:       "twilio.expired",
	"identify.prompt":       "twilio.identify",
	"reset.passphrase_sent": "twilio.passphrase_sent",
}

// view is one TwiML answer: the engine's reply plus what the adapter adds.
type view struct {
	locale string
	// pre are message IDs said before the reply (no arguments).
	pre   []string
	reply engine.Reply
	// seq is the sequence number of the next gather.
	seq      int
	silences int
	// hint is the message ID of the keypad hint said after the first output
	// (start of a call; see startHint), empty for none.
	hint string
}

func (h *Handler) respond(w http.ResponseWriter, v view) { h.write(w, h.render(v)) }

// render turns a view into TwiML verbs.
func (h *Handler) render(v view) []twiml.Element {
	if v.reply.Locale != "" {
		// The conversation's language (a language word, the directory's
		// preferred language); later gathers carry it in their URLs.
		v.locale = h.locale(v.reply.Locale)
	}
	loc := v.locale
	var says []twiml.Element
	for _, id := range v.pre {
		says = append(says, h.say(loc, h.msgs.Text(loc, id, true, nil)))
	}
	for i, o := range v.reply.Outputs {
		// Attachments (an enrollment QR) are never rendered on a call.
		id := o.MessageID
		if alt, ok := voiceIDs[id]; ok {
			id = alt
		}
		says = append(says, h.say(loc, h.msgs.Text(loc, id, true, o.Args)))
		if v.hint != "" && i == 0 {
			says = append(says, h.say(loc, h.msgs.Text(loc, v.hint, true, nil)))
		}
	}
	last := v.reply.Last()
	if v.reply.Ended {
		if transferStates[v.reply.State] {
			return h.transfer(loc, says)
		}
		return append(says, &twiml.VoiceHangup{})
	}
	says = append(says, h.choices(loc, last.Expect)...)
	action := h.gatherURL(loc, v.seq, v.silences, 0)
	if v.reply.Flow == "" && len(h.cfg.Languages) > 1 {
		// The main menu: nine opens the language menu (see gather).
		action += "&m=1"
	}
	g := &twiml.VoiceGather{Input: "dtmf", Action: action, Method: http.MethodPost,
		Timeout: h.timeout(), FinishOnKey: "#", ActionOnEmptyResult: "true", InnerElements: says}
	switch e := last.Expect; {
	case e.Kind == engine.ExpectChoice, e.Kind == engine.ExpectNone:
		// One key: a choice, star to repeat or zero for a person.
		g.NumDigits = "1"
	case e.MinDigits > 0 && e.MinDigits == e.MaxDigits:
		g.NumDigits = strconv.Itoa(e.MaxDigits)
	}
	return []twiml.Element{g}
}

// choices says the choices of e: a menu ("reset password, press 1"), or the
// side choices next to a code ("text message, press 2 then pound"): one key
// that cannot be a code picks them (the engine maps it, see engine.Expect).
//
// A side choice is said with the pound key because the code's gather waits
// for six digits: a lone "2" is only sent after pound or the gather's
// timeout. Twilio has no way to end a gather on one particular key other
// than finishOnKey, and a shorter timeout would cut off a caller typing the
// code slowly (the timeout runs between keys), so the prompt names pound
// instead.
func (h *Handler) choices(loc string, e engine.Expect) []twiml.Element {
	choices := e.Choices
	// Chat-only flows would only answer "not available by phone".
	for len(choices) > 1 && choices[len(choices)-1].ChatOnly {
		choices = choices[:len(choices)-1]
	}
	press := "voice.press"
	if sideChoices(e) {
		press = "voice.press_pound"
	}
	var says []twiml.Element
	for i, c := range choices {
		option := h.msgs.Text(loc, c.MessageID, true, nil)
		says = append(says, h.say(loc, h.msgs.Text(loc, press, true,
			map[string]string{"option": option, "digit": strconv.Itoa(c.Digit(i))})))
	}
	return says
}

// sideChoices reports whether e's choices sit beside a keyed entry (a
// code) rather than making a one-key menu.
func sideChoices(e engine.Expect) bool {
	return len(e.Choices) > 0 && e.Kind != engine.ExpectChoice && e.Kind != engine.ExpectNone
}

// startHint is the keypad hint of a call's first menu. Nine (another
// language) is named only when the language was not just chosen in the
// language menu: a caller who has just heard that menu knows it.
func (h *Handler) startHint(menuHeard bool) string {
	if len(h.cfg.Languages) > 1 && !menuHeard {
		return "twilio.hint_languages"
	}
	return "twilio.hint"
}

// transfer says the reply, then dials the help desk (or says it cannot).
func (h *Handler) transfer(loc string, says []twiml.Element) []twiml.Element {
	if h.cfg.HelpDesk == "" {
		return append(says, h.say(loc, h.msgs.Text(loc, "twilio.no_transfer", true, nil)), &twiml.VoiceHangup{})
	}
	return append(says, h.say(loc, h.msgs.Text(loc, "twilio.transfer", true, nil)),
		&twiml.VoiceDial{Number: h.cfg.HelpDesk, Timeout: "30"}, &twiml.VoiceHangup{})
}

// goodbye is one message and hang up.
func (h *Handler) goodbye(loc, id string) []twiml.Element {
	return []twiml.Element{h.say(loc, h.msgs.Text(loc, id, true, nil)), &twiml.VoiceHangup{}}
}

func (h *Handler) say(loc, text string) *twiml.VoiceSay {
	voice, language := h.msgs.Voice(loc)
	return &twiml.VoiceSay{Message: text, Voice: voice, Language: language}
}

// write sends TwiML.
func (h *Handler) write(w http.ResponseWriter, verbs []twiml.Element) {
	b := twimlBufs.Get().(*bytes.Buffer)
	b.Reset()
	encodeTwiML(b, verbs)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(b.Bytes())
	if b.Cap() <= 64<<10 {
		twimlBufs.Put(b)
	}
}
