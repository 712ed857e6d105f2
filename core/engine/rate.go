package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/store"
)

// The satisfaction rating offered after a completed flow (Step.Rate).
const (
	// MsgRateAsk asks whether it was easy; its choices are ChoiceRateUp
	// (key 1) and ChoiceRateDown (key 2).
	MsgRateAsk = "rate.ask"
	// MsgRateThanks answers a rating.
	MsgRateThanks  = "rate.thanks"
	ChoiceRateUp   = "rate.up"
	ChoiceRateDown = "rate.down"
	// NameRating is the audit event of a rating; its Reason is "up" or
	// "down" (core/report counts it).
	NameRating = "flow.rating"
	// RateKeep is how long the question stays answerable.
	RateKeep = 10 * time.Minute
)

// rateMark replaces the session of a flow completed in a Rate state: it
// knows only what the rating's audit event needs.
type rateMark struct {
	Flow   string `json:"rate"`
	Step   string `json:"sp"`
	Hash   string `json:"h"`
	User   string `json:"u,omitempty"`
	Locale string `json:"l,omitempty"`
}

// offerRating turns the reply of a completed flow into one that also asks
// for a rating: the goodbye comes first, unchanged, and the question after
// it; nothing waits for the answer. The session is replaced by a rateMark.
func (e *Engine) offerRating(c *Ctx, res *result) {
	s := c.Session
	b, err := json.Marshal(rateMark{Flow: s.Flow, Step: s.step(), Hash: s.Hash(), User: s.Get(VarUser), Locale: s.Locale})
	if err != nil {
		return // the flow is done either way; no question
	}
	res.reply.Outputs = append(res.reply.Outputs, Output{MessageID: MsgRateAsk, Expect: Expect{Kind: ExpectChoice,
		Choices: []Choice{{ID: ChoiceRateUp, MessageID: ChoiceRateUp, Key: 1}, {ID: ChoiceRateDown, MessageID: ChoiceRateDown, Key: 2}}}})
	res.reply.Ended = false
	res.op, res.value, res.ttl = store.SessionPut, b, RateKeep
}

// decodeRateMark returns the mark stored in rec, if it is one.
func decodeRateMark(rec store.Record) (rateMark, bool) {
	if rec.Version == 0 || !bytes.HasPrefix(rec.Value, []byte(`{"rate":`)) {
		return rateMark{}, false
	}
	var m rateMark
	if err := json.Unmarshal(rec.Value, &m); err != nil || m.Flow == "" {
		return rateMark{}, false
	}
	return m, true
}

// rated handles the turn after a rating question. A rating (a button, or 1
// or 2) is audited and thanked; silence, a hang-up or a cancel end quietly
// (no rating); anything else drops the question and is handled as a new
// conversation would be (done is false).
func (e *Engine) rated(ctx context.Context, t *Turn, ref string, m rateMark, res *result) (done bool) {
	in := t.Input
	res.op = store.SessionDelete
	rating := ""
	switch {
	case in.Kind == InputChoice && (in.State == "" || in.State == m.Step):
		rating = map[string]string{ChoiceRateUp: "up", ChoiceRateDown: "down"}[in.Choice]
	case in.Kind == InputDigits || in.Kind == InputText:
		rating = map[string]string{"1": "up", "2": "down"}[strings.TrimSpace(in.Value.Reveal())]
	case in.Kind == InputTimeout || in.Kind == InputCancel:
		res.reply = Reply{Ref: ref, Ended: true, Flow: m.Flow, Locale: m.Locale}
		return true
	}
	if rating == "" {
		return false
	}
	ev := audit.Event{Time: e.opt.Clock().UTC(), Name: NameRating, Ref: ref, Channel: t.Channel, Session: m.Hash,
		Flow: m.Flow, Actor: m.User, Reason: rating, Outcome: audit.OutcomeSuccess}
	if ev.Actor == "" {
		ev.Actor = t.Channel + ":" + t.ChannelUser
	}
	res.after = append(res.after, ev)
	res.reply = Reply{Ref: ref, Ended: true, Flow: m.Flow, Locale: m.Locale, Outputs: []Output{{MessageID: MsgRateThanks}}}
	return true
}
