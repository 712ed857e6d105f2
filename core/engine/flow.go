package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/looplab/fsm"

	"github.com/resetbot/resetbot/core/audit"
)

// Common event names every flow must accept from every non-final state, so a
// person can always leave or ask for a human.
const (
	EventCancel   = "cancel"
	EventEscalate = "escalate"
	EventExpire   = "expire"
)

// Step is what a flow does in one state.
//
// Steps never choose the next state: Handle returns an event name and the
// flow's FSM table decides where it leads. An empty event keeps the state (for
// a wrong answer that is retried, say).
type Step struct {
	// Prompt emits the question asked on entering the state.
	Prompt func(ctx context.Context, c *Ctx)
	// Handle applies the user's input. It may emit outputs (a refusal, a
	// notice) and returns the event to fire. An error means infrastructure
	// failed: the user gets a catalogued error with the turn's reference.
	Handle func(ctx context.Context, c *Ctx, in Input) (string, error)
	// Auto steps take no input: Handle runs right after the state is entered
	// (a directory write, a pre-flight check).
	Auto bool
	// Final states end the conversation; their Prompt is the goodbye.
	Final bool
	// Rate marks a final state that completes the flow: with
	// Options.Ratings the engine then asks, after the goodbye, whether it
	// was easy (rate.go). The answer is optional and nothing waits for it.
	Rate bool
}

// Flow is one conversation (reset, unlock, enroll), defined once for every channel.
type Flow struct {
	Name    string
	Initial string
	Events  fsm.Events
	Steps   map[string]Step
	// Keywords start the flow from free text ("reset", "password").
	Keywords []string
	// MessageID names the flow in menus.
	MessageID string
	// Hidden flows are started only explicitly (a help-desk handoff), never
	// from the menu, a keyword or a keypad digit.
	Hidden bool
	// ChatOnly flows need a screen (a QR code, a masked form): the menu
	// marks their choice so that a keypad channel leaves it out.
	ChatOnly bool
	// Guard, if set, runs before every step handles an input. A non-empty
	// event is fired instead of handling it (a conversation superseded by a
	// newer one for the same account ends this way).
	Guard func(ctx context.Context, c *Ctx) (string, error)
}

// States lists every state named in the flow's event table, sorted.
func (f *Flow) States() []string {
	seen := map[string]bool{f.Initial: true}
	for _, e := range f.Events {
		seen[e.Dst] = true
		for _, s := range e.Src {
			seen[s] = true
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Validate checks that the table and the steps agree: every state has a step,
// every step a state, every non-final state can be cancelled and escalated.
// looplab/fsm ignores misspelled names silently, so this runs at startup and
// in tests.
func (f *Flow) Validate() error {
	var problems []string
	states := f.States()
	known := map[string]bool{}
	for _, s := range states {
		known[s] = true
		st, ok := f.Steps[s]
		if !ok {
			problems = append(problems, fmt.Sprintf("state %q has no step", s))
			continue
		}
		if !st.Final && st.Handle == nil {
			problems = append(problems, fmt.Sprintf("state %q has no handler", s))
		}
		if st.Final {
			continue
		}
		m := fsm.NewFSM(s, f.Events, nil)
		for _, ev := range []string{EventCancel, EventEscalate, EventExpire} {
			if !m.Can(ev) {
				problems = append(problems, fmt.Sprintf("state %q cannot %s", s, ev))
			}
		}
	}
	for s := range f.Steps {
		if !known[s] {
			problems = append(problems, fmt.Sprintf("step %q is not a state of the table", s))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("flow %s: %s", f.Name, strings.Join(problems, "; "))
	}
	return nil
}

// Mermaid returns the flow's state diagram, generated from its FSM table.
func (f *Flow) Mermaid() string {
	m := fsm.NewFSM(f.Initial, f.Events, nil)
	out, err := fsm.VisualizeWithType(m, fsm.MermaidStateDiagram)
	if err != nil {
		return ""
	}
	return out
}

// Ctx is what a step sees of the current turn.
type Ctx struct {
	Session *Session
	Turn    *Turn
	// Ref is the turn's reference ID.
	Ref string
	// Now is the engine clock's time at the start of the turn.
	Now time.Time
	// Voice is true on voice channels: no free text, no masked fields.
	Voice bool
	// Again is true when the state's prompt runs again because its step
	// kept the conversation where it was (a wrong code, a refused
	// password): prompts that announce something ("a code is on its way",
	// "you are verified") then ask more briefly instead of saying it twice.
	Again bool

	outputs []Output
	floor   time.Duration
	eng     *Engine
}

// Audit writes an audit event with the turn's reference, session, channel,
// flow and user filled in.
func (c *Ctx) Audit(ctx context.Context, ev audit.Event) {
	if c.eng != nil {
		c.eng.audit(ctx, c.Turn, c.Session, c.Ref, ev)
	}
}

// Say emits a catalogued message. args alternate name, value.
func (c *Ctx) Say(id string, args ...string) *Output {
	o := Output{MessageID: id}
	if len(args) > 0 {
		o.Args = make(map[string]string, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			o.Args[args[i]] = args[i+1]
		}
	}
	c.outputs = append(c.outputs, o)
	return &c.outputs[len(c.outputs)-1]
}

// Emit appends a prepared output.
func (c *Ctx) Emit(o Output) { c.outputs = append(c.outputs, o) }

// Outputs returns what the turn has said so far.
func (c *Ctx) Outputs() []Output { return c.outputs }

// EqualizeTo asks the engine to make this turn last at least d, so that
// answers for unknown users, wrong codes and missing enrollments cannot be told
// apart by their timing.
func (c *Ctx) EqualizeTo(d time.Duration) {
	if d > c.floor {
		c.floor = d
	}
}
