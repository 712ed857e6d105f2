package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/looplab/fsm"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/store"
)

const (
	maxChain    = 16
	expiryGrace = 10 * time.Minute
)

// closedMark is the record of a closed conversation (Turn.Close).
var closedMark = []byte(`{"closed":true}`)

// step runs the flow for the loaded session record (Version 0: none) and
// says how the commit must change it. It touches the store only through the
// flows' own calls: the session is loaded by acquire and written by commit.
func (e *Engine) step(ctx context.Context, t *Turn, ref string, rec store.Record) result {
	res := result{base: rec.Version}
	if rec.Version != 0 && string(rec.Value) == string(closedMark) {
		res.reply = Reply{Ref: ref, Ended: true, Closed: true}
		return res
	}
	if m, ok := decodeRateMark(rec); ok {
		if e.rated(ctx, t, ref, m, &res) {
			return res
		}
		// Not a rating: the question is dropped and the input handled as
		// the start of a new conversation, over the mark's version.
		// (res.base keeps the mark's version for the commit.)
		rec, res.op = store.Record{}, store.SessionDelete
	}
	now := e.opt.Clock()
	e.checkLocale(t)
	s := e.decode(t, rec)
	if s == nil && rec.Version != 0 {
		// A record we cannot use (older format, a flow or state another
		// version of resetbot wrote) ends politely.
		e.opt.Log.Warn("unusable session record dropped", "channel", t.Channel)
		res.op = store.SessionDelete
	}
	if s != nil && e.expired(s, now) {
		res.op = store.SessionDelete
		res.after = append(res.after, e.event(t, s, ref, audit.Event{Name: "flow.end", Outcome: "expired", From: s.State}))
		if t.Input.Kind != InputStart {
			res.reply = Reply{Ref: ref, Ended: true, Outputs: []Output{{MessageID: MsgExpired}}}
			return res
		}
		s = nil
	}
	c := &Ctx{Turn: t, Ref: ref, Now: now, Voice: e.voice[t.Channel], eng: e}
	var err error
	if s == nil {
		f := e.route(t)
		if f == nil {
			res.reply = e.menu(ctx, c)
			return res
		}
		if s, err = e.newSession(t, f, now); err != nil {
			return e.failed(ctx, t, ref, nil, err, res.base)
		}
		c.Session = s
		e.audit(ctx, t, s, ref, startEvent(t))
		err = e.enter(ctx, c, f, 0)
	} else {
		c.Session = s
		err = e.dispatch(ctx, c)
	}
	if err != nil {
		return e.failed(ctx, t, ref, c.Session, err, res.base)
	}
	res.floor = c.floor
	return e.plan(c, res)
}

// failed is the result of a step that failed: the session stays as stored.
// A step cut short by the store (a failover, an outage: store.ErrUnavailable
// from a flow's own store call) is treated like one cut by its deadline:
// the delivery is released and the platform asked to deliver it again
// (Reply.Retry), rather than the person told "something went wrong" for a
// turn that saved nothing.
func (e *Engine) failed(ctx context.Context, t *Turn, ref string, s *Session, err error, base uint64) result {
	if errors.Is(err, store.ErrUnavailable) {
		e.noteStore(ctx, err)
	}
	return result{base: base, failed: true, cut: errors.Is(err, store.ErrUnavailable), reply: e.fail(ctx, t, ref, s, err)}
}

// plan turns the session after the step into the commit: deleted when the
// flow ended, otherwise written over the version the turn loaded.
func (e *Engine) plan(c *Ctx, res result) result {
	s := c.Session
	res.reply = Reply{Ref: c.Ref, Outputs: c.outputs, Flow: s.Flow, State: s.State, Step: s.step(), Locale: s.Locale}
	if st := e.flows[s.Flow].Steps[s.State]; st.Final {
		res.reply.Ended = true
		res.op = store.SessionKeep
		if res.base != 0 {
			res.op = store.SessionDelete
		}
		// seconds is the conversation's length, so whichever replica ends
		// it can tell the time to reset (core/report).
		res.after = append(res.after, e.event(c.Turn, s, c.Ref, audit.Event{Name: "flow.end", Outcome: s.State,
			Fields: map[string]string{"seconds": strconv.FormatInt(max(c.Now.Unix()-s.Created, 0), 10)}}))
		if st.Rate && e.opt.Ratings {
			e.offerRating(c, &res)
		}
		return res
	}
	s.Updated = c.Now.Unix()
	ids := make([]string, 0, len(c.outputs))
	for _, o := range c.outputs {
		ids = append(ids, o.MessageID)
	}
	s.addTrail(ids)
	b, err := s.encode()
	if err != nil {
		return result{base: res.base, reply: e.fail(context.Background(), c.Turn, c.Ref, s, fmt.Errorf("encode session: %w", err))}
	}
	res.op, res.value = store.SessionPut, b
	return res
}

// decode returns the stored session, or nil when there is none or it is
// unusable.
func (e *Engine) decode(t *Turn, rec store.Record) *Session {
	if rec.Version == 0 {
		return nil
	}
	s, err := decodeSession(rec.Value)
	if err != nil || e.flows[s.Flow] == nil || !e.known(s) || s.Channel != t.Channel || s.ChannelUser != t.ChannelUser {
		return nil
	}
	return s
}

// known reports whether the session's state is a state of its flow.
func (e *Engine) known(s *Session) bool {
	_, ok := e.flows[s.Flow].Steps[s.State]
	return ok
}

func (e *Engine) expired(s *Session, now time.Time) bool {
	return now.Sub(time.Unix(s.Updated, 0)) > e.opt.IdleTimeout ||
		now.Sub(time.Unix(s.Created, 0)) > e.opt.AbsoluteTimeout
}

func (e *Engine) newSession(t *Turn, f *Flow, now time.Time) (*Session, error) {
	id, err := NewID(e.opt.Rand)
	if err != nil {
		return nil, fmt.Errorf("session id: %w", err)
	}
	return &Session{ID: id, Flow: f.Name, State: f.Initial, Channel: t.Channel,
		ChannelUser: t.ChannelUser, Locale: t.Locale, LocaleBy: t.localeBy(), Created: now.Unix(), Updated: now.Unix()}, nil
}

// route picks the flow a session-less turn starts: an explicit start, a
// menu choice, a keyword or a keypad digit; nil shows the menu.
func (e *Engine) route(t *Turn) *Flow {
	in := t.Input
	switch in.Kind {
	case InputStart:
		// Hidden flows start only from a help-desk handoff.
		if f := e.flows[in.Flow]; f != nil && (!f.Hidden || in.Handoff != "") {
			return f
		}
	case InputChoice:
		if f := e.flows[strings.TrimPrefix(in.Choice, "flow:")]; f != nil && !f.Hidden {
			return f
		}
	case InputDigits:
		n, err := strconv.Atoi(in.Value.Reveal())
		if err == nil && n >= 1 && n <= len(e.order) {
			return e.order[n-1]
		}
	case InputText:
		return e.byPhrase(in.Value.Reveal())
	}
	return nil
}

// menu offers the flows. It creates no session.
func (e *Engine) menu(ctx context.Context, c *Ctx) Reply {
	choices := e.menuChoices
	in := c.Turn.Input
	if in.Kind == InputCancel {
		return Reply{Ref: c.Ref, Ended: true, Outputs: []Output{{MessageID: MsgGoodbye}}}
	}
	menu := Output{MessageID: MsgMenu, Expect: Expect{Kind: ExpectChoice, Choices: choices}}
	switch lang := e.switchTo(in); {
	case lang != "":
		// No session holds the choice yet: this reply is in the new
		// language, and the conversation it starts keeps it.
		return Reply{Ref: c.Ref, Locale: lang, Outputs: []Output{{MessageID: MsgLanguage}, menu}}
	case e.isHelp(in):
		return Reply{Ref: c.Ref, Outputs: []Output{{MessageID: MsgHelp}, menu}}
	}
	return Reply{Ref: c.Ref, Outputs: []Output{menu}}
}

// dispatch applies the input to the session's current step.
func (e *Engine) dispatch(ctx context.Context, c *Ctx) error {
	s, in := c.Session, c.Turn.Input
	f := e.flows[s.Flow]
	s.Steps++
	if s.Steps > e.opt.MaxTurns {
		c.Say(MsgTooMany, "ref", c.Ref)
		return e.fire(ctx, c, f, EventExpire, 0)
	}
	if t := c.Turn; t.Locale != "" && t.localeBy() >= s.LocaleBy {
		s.Locale, s.LocaleBy = t.Locale, t.localeBy()
	}
	if lang := e.switchTo(in); lang != "" {
		s.Locale, s.LocaleBy = lang, LocaleByUser
		c.Say(MsgLanguage)
		return e.prompt(ctx, c, f)
	}
	if e.isHelp(in) {
		c.Say(MsgHelp)
		return e.prompt(ctx, c, f)
	}
	switch ev := e.globalEvent(in, c.Voice); {
	case in.Kind == InputStart && (in.Flow != s.Flow || in.Handoff != "") && e.route(c.Turn) != nil:
		// A new request replaces the old conversation.
		if err := e.fire(ctx, c, f, EventCancel, 0); err != nil {
			return err
		}
		c.outputs = nil
		nf := e.flows[in.Flow]
		ns, err := e.newSession(c.Turn, nf, c.Now)
		if err != nil {
			return err
		}
		c.Session = ns
		return e.enter(ctx, c, nf, 0)
	case ev != "":
		return e.fire(ctx, c, f, ev, 0)
	case isRepeat(in):
		return e.prompt(ctx, c, f)
	case in.Kind == InputTimeout:
		s.SetInt(varTimeouts, s.Int(varTimeouts)+1)
		if s.Int(varTimeouts) >= 2 {
			return e.fire(ctx, c, f, EventExpire, 0)
		}
		c.Say(MsgNoInput)
		return e.prompt(ctx, c, f)
	}
	s.SetInt(varTimeouts, 0)
	if in.State != "" && !s.at(in.State) {
		e.audit(ctx, c.Turn, s, c.Ref, audit.Event{Name: audit.NameOutOfOrder, From: in.State, To: s.State})
		c.Say(MsgStale)
		return e.prompt(ctx, c, f)
	}
	if f.Guard != nil {
		ev, err := f.Guard(ctx, c)
		if err != nil {
			return err
		}
		if ev != "" {
			return e.fire(ctx, c, f, ev, 0)
		}
	}
	step := f.Steps[s.State]
	in = e.choiceFromDigits(ctx, c, f, in)
	ev, err := step.Handle(ctx, c, in)
	if err != nil {
		return err
	}
	if ev == "" {
		c.Again = true
		return e.prompt(ctx, c, f)
	}
	return e.fire(ctx, c, f, ev, 0)
}

const varTimeouts = "_to"

// choiceFromDigits maps keypad digit N to the N-th choice of the current
// prompt, so voice menus need nothing from the flows. Next to a field that
// wants several digits (a code), a single digit picks the side choice with
// that digit (see Expect).
func (e *Engine) choiceFromDigits(ctx context.Context, c *Ctx, f *Flow, in Input) Input {
	if in.Kind != InputDigits && in.Kind != InputText {
		return in
	}
	probe := &Ctx{Session: c.Session, Turn: c.Turn, Ref: c.Ref, Now: c.Now, Voice: c.Voice}
	if p := f.Steps[c.Session.State].Prompt; p != nil {
		p(ctx, probe)
	}
	last := Output{}
	if n := len(probe.outputs); n > 0 {
		last = probe.outputs[n-1]
	}
	typed := strings.TrimSpace(in.Value.Reveal())
	switch ex := last.Expect; {
	case ex.Kind == ExpectChoice:
	case len(ex.Choices) > 0 && len(typed) == 1 && (ex.Kind == ExpectText || ex.MinDigits > 1):
		// A side choice next to a field: one key cannot be the field's
		// answer, so it picks the choice with that digit.
	default:
		return in
	}
	n, err := strconv.Atoi(typed)
	if err != nil {
		return in
	}
	id, ok := last.Expect.ChoiceFor(n)
	if !ok {
		return in
	}
	return Input{Kind: InputChoice, Choice: id}
}

// fire moves the session with event ev, as the flow's FSM table decides, then
// runs automatic steps and prompts for the next input.
func (e *Engine) fire(ctx context.Context, c *Ctx, f *Flow, ev string, depth int) error {
	if depth > maxChain {
		return fmt.Errorf("flow %s: more than %d automatic steps", f.Name, maxChain)
	}
	s := c.Session
	to, err := e.moves[f].next(ctx, f, ev, s.State)
	if err != nil {
		var nt fsm.NoTransitionError
		if !errors.As(err, &nt) {
			return fmt.Errorf("flow %s: event %q in state %q: %w", f.Name, ev, s.State, err)
		}
	}
	from := s.State
	s.State = to
	s.Entries++
	e.audit(ctx, c.Turn, s, c.Ref, audit.Event{Name: "flow.transition", From: from, To: s.State, Event: ev})
	return e.enter(ctx, c, f, depth)
}

// enter runs what happens on entering the session's state.
func (e *Engine) enter(ctx context.Context, c *Ctx, f *Flow, depth int) error {
	step := f.Steps[c.Session.State]
	if step.Auto && step.Handle != nil {
		ev, err := step.Handle(ctx, c, Input{})
		if err != nil {
			return err
		}
		if ev != "" && !step.Final {
			return e.fire(ctx, c, f, ev, depth+1)
		}
	}
	return e.prompt(ctx, c, f)
}

func (e *Engine) prompt(ctx context.Context, c *Ctx, f *Flow) error {
	if p := f.Steps[c.Session.State].Prompt; p != nil {
		p(ctx, c)
	}
	return nil
}

// startEvent is the audit event that opens a conversation. On the phone it
// names the caller ID (a signal, never a factor): a phone session is bound to
// its call, so without it one number calling again and again about different
// accounts would look like many identities to the abuse alarms.
func startEvent(t *Turn) audit.Event {
	ev := audit.Event{Name: "flow.start"}
	if t.Hints.Phone != "" {
		ev.Fields = map[string]string{audit.FieldCaller: t.Hints.Phone}
	}
	return ev
}
