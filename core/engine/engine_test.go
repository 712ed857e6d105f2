package engine_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/looplab/fsm"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/memory"
)

// testFlow asks for a word, then for digits, then ends. acts counts the
// side effect of the last step so tests can prove "acts once".
type testFlow struct {
	acts   atomic.Int32
	block  chan struct{}
	fail   error
	panics bool
}

func (tf *testFlow) flow() *engine.Flow {
	all := []string{"ask", "digits", "work"}
	ev := fsm.Events{
		{Name: "next", Src: []string{"ask"}, Dst: "digits"},
		{Name: "go", Src: []string{"digits"}, Dst: "work"},
		{Name: "done", Src: []string{"work"}, Dst: "done"},
		{Name: engine.EventCancel, Src: all, Dst: "cancelled"},
		{Name: engine.EventEscalate, Src: all, Dst: "escalated"},
		{Name: engine.EventExpire, Src: all, Dst: "expired"},
	}
	say := func(id string, ex engine.Expect) func(context.Context, *engine.Ctx) {
		return func(_ context.Context, c *engine.Ctx) { c.Say(id).Expect = ex }
	}
	return &engine.Flow{
		Name: "test", Initial: "ask", Events: ev, Keywords: []string{"test"}, MessageID: "flow.test",
		Steps: map[string]engine.Step{
			"ask": {Prompt: say("ask.prompt", engine.Expect{Kind: engine.ExpectChoice, Choices: []engine.Choice{{ID: "a"}, {ID: "b"}}}),
				Handle: func(_ context.Context, c *engine.Ctx, in engine.Input) (string, error) {
					if in.Kind != engine.InputChoice {
						c.Say("ask.bad")
						return "", nil
					}
					c.Session.Set("pick", in.Choice)
					return "next", nil
				}},
			"digits": {Prompt: say("digits.prompt", engine.Expect{Kind: engine.ExpectDigits}),
				Handle: func(_ context.Context, c *engine.Ctx, in engine.Input) (string, error) {
					if tf.block != nil {
						<-tf.block
					}
					if tf.fail != nil {
						return "", tf.fail
					}
					if tf.panics {
						panic("step bug")
					}
					if in.Value.Reveal() != "42" {
						c.Say("digits.wrong")
						return "", nil
					}
					return "go", nil
				}},
			"work": {Auto: true, Handle: func(_ context.Context, c *engine.Ctx, _ engine.Input) (string, error) {
				tf.acts.Add(1)
				return "done", nil
			}},
			"done":      {Final: true, Prompt: say("done", engine.Expect{})},
			"cancelled": {Final: true, Prompt: say("cancelled", engine.Expect{})},
			"escalated": {Final: true, Prompt: say("escalated", engine.Expect{})},
			"expired":   {Final: true, Prompt: say("expired", engine.Expect{})},
		},
	}
}

type fixture struct {
	eng   *engine.Engine
	st    store.Store
	tf    *testFlow
	rec   *audit.Recorder
	now   time.Time
	clock func() time.Time
	mu    sync.Mutex
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{tf: &testFlow{}, rec: &audit.Recorder{}, now: time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)}
	fx.clock = func() time.Time { fx.mu.Lock(); defer fx.mu.Unlock(); return fx.now }
	fx.st = memory.New(memory.WithClock(fx.clock))
	eng, err := engine.New(engine.Options{Store: fx.st, Flows: []*engine.Flow{fx.tf.flow()}, Audit: fx.rec, Clock: fx.clock,
		Words: testWords})
	if err != nil {
		t.Fatal(err)
	}
	fx.eng = eng
	return fx
}

// leaseHeld reports whether a turn of console:U1 holds its session lease.
func (fx *fixture) leaseHeld(t *testing.T) bool {
	rec, err := fx.st.Get(t.Context(), "lock:{console:U1}")
	return err == nil && len(rec.Value) > 0 && rec.Value[0] == store.MarkLease
}

func (fx *fixture) advance(d time.Duration) { fx.mu.Lock(); fx.now = fx.now.Add(d); fx.mu.Unlock() }

func turn(in engine.Input) engine.Turn {
	return engine.Turn{Channel: "console", ChannelUser: "U1", Input: in}
}

func text(s string) engine.Input { return engine.Input{Kind: engine.InputText, Value: secret.New(s)} }
func digits(s string) engine.Input {
	return engine.Input{Kind: engine.InputDigits, Value: secret.New(s)}
}

func ids(r engine.Reply) string {
	var out []string
	for _, o := range r.Outputs {
		out = append(out, o.MessageID)
	}
	return strings.Join(out, ",")
}

func TestConversation(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		inputs []engine.Input
		want   []string // message IDs per turn
		state  string
		acts   int32
	}{
		{"menu for unknown text", []engine.Input{text("hello")}, []string{engine.MsgMenu}, "", 0},
		{"keyword starts flow, runs to the end", []engine.Input{text("test please"), {Kind: engine.InputChoice, Choice: "a"}, digits("41"), digits("42")},
			[]string{"ask.prompt", "digits.prompt", "digits.wrong,digits.prompt", "done"}, "done", 1},
		{"keypad digit picks the menu entry and the choice", []engine.Input{digits("1"), digits("2"), digits("42")},
			[]string{"ask.prompt", "digits.prompt", "done"}, "done", 1},
		{"wrong input re-prompts", []engine.Input{{Kind: engine.InputStart, Flow: "test"}, text("zzz")},
			[]string{"ask.prompt", "ask.bad,ask.prompt"}, "ask", 0},
		{"cancel word from any state", []engine.Input{text("test"), text("Cancel")}, []string{"ask.prompt", "cancelled"}, "cancelled", 0},
		{"agent word escalates", []engine.Input{text("test"), text("agent")}, []string{"ask.prompt", "escalated"}, "escalated", 0},
		{"silence twice ends", []engine.Input{text("test"), {Kind: engine.InputTimeout}, {Kind: engine.InputTimeout}},
			[]string{"ask.prompt", engine.MsgNoInput + ",ask.prompt", "expired"}, "expired", 0},
		{"star repeats", []engine.Input{text("test"), digits("*")}, []string{"ask.prompt", "ask.prompt"}, "ask", 0},
		{"oversized input refused", []engine.Input{text(strings.Repeat("x", 600))}, []string{engine.MsgTooLong}, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			var r engine.Reply
			for i, in := range tc.inputs {
				r = fx.eng.Handle(ctx, turn(in))
				if got := ids(r); got != tc.want[i] {
					t.Fatalf("turn %d: got %q, want %q", i, got, tc.want[i])
				}
			}
			if r.State != tc.state {
				t.Errorf("state %q, want %q", r.State, tc.state)
			}
			if got := fx.tf.acts.Load(); got != tc.acts {
				t.Errorf("acted %d times, want %d", got, tc.acts)
			}
		})
	}
}

func TestDuplicateDeliveryActsOnce(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.eng.Handle(ctx, turn(text("test")))
	fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a"}))
	tn := turn(digits("42"))
	tn.DeliveryID = "evt-1"
	first := fx.eng.Handle(ctx, tn)
	second := fx.eng.Handle(ctx, tn)
	if ids(first) != "done" || ids(second) != "done" || !second.Duplicate || second.Ref != first.Ref {
		t.Fatalf("first %q %s, second %q %s dup=%v", ids(first), first.Ref, ids(second), second.Ref, second.Duplicate)
	}
	if n := fx.tf.acts.Load(); n != 1 {
		t.Fatalf("acted %d times", n)
	}
	if len(fx.rec.Find("flow.duplicate")) != 1 {
		t.Fatalf("duplicate not audited: %v", fx.rec.Names())
	}
}

func TestTwoTurnsAtOnce(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.tf.block = make(chan struct{})
	fx.eng.Handle(ctx, turn(text("test")))
	fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a"}))
	done := make(chan engine.Reply)
	go func() { done <- fx.eng.Handle(ctx, turn(digits("42"))) }()
	// Wait until the first turn holds the lock.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if fx.leaseHeld(t) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	second := fx.eng.Handle(ctx, turn(digits("42")))
	close(fx.tf.block)
	first := <-done
	if ids(second) != engine.MsgBusy || ids(first) != "done" || fx.tf.acts.Load() != 1 {
		t.Fatalf("first %q, second %q, acts %d", ids(first), ids(second), fx.tf.acts.Load())
	}
}

func TestIdleExpiry(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.eng.Handle(ctx, turn(text("test")))
	fx.advance(16 * time.Minute)
	r := fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a"}))
	if ids(r) != engine.MsgExpired || !r.Ended {
		t.Fatalf("got %q ended=%v", ids(r), r.Ended)
	}
	// The next message starts over.
	if r := fx.eng.Handle(ctx, turn(text("test"))); ids(r) != "ask.prompt" {
		t.Fatalf("after expiry got %q", ids(r))
	}
}

func TestInfrastructureErrorIsCatalogued(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.tf.fail = errors.New("ldap: 0000052D: internal detail")
	fx.eng.Handle(ctx, turn(text("test")))
	fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a"}))
	r := fx.eng.Handle(ctx, turn(digits("42")))
	if ids(r) != engine.MsgError || r.Outputs[0].Args["ref"] != r.Ref || r.Ref == "" {
		t.Fatalf("got %+v", r)
	}
	for _, o := range r.Outputs {
		for _, v := range o.Args {
			if strings.Contains(v, "0000052D") {
				t.Fatal("internal error reached the user")
			}
		}
	}
	// The session survives the failed turn.
	fx.tf.fail = nil
	if r := fx.eng.Handle(ctx, turn(digits("42"))); ids(r) != "done" {
		t.Fatalf("after error got %q", ids(r))
	}
}

func TestValidateCatchesBrokenTables(t *testing.T) {
	tf := &testFlow{}
	f := tf.flow()
	delete(f.Steps, "digits")
	f.Steps["verifed"] = engine.Step{Final: true}
	f.Events = f.Events[:4] // no escalate / expire
	err := f.Validate()
	if err == nil {
		t.Fatal("broken flow accepted")
	}
	for _, want := range []string{`"digits" has no step`, `"verifed" is not a state`, "cannot escalate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := engine.New(engine.Options{Store: memory.New(), Flows: []*engine.Flow{f}}); err == nil {
		t.Fatal("engine accepted a broken flow")
	}
}

func TestFloorEqualizesTiming(t *testing.T) {
	ctx := context.Background()
	var slept time.Duration
	tf := &testFlow{}
	f := tf.flow()
	st := f.Steps["ask"]
	h := st.Handle
	st.Handle = func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
		c.EqualizeTo(300 * time.Millisecond)
		return h(ctx, c, in)
	}
	f.Steps["ask"] = st
	eng, err := engine.New(engine.Options{Store: memory.New(), Flows: []*engine.Flow{f},
		Sleep: func(_ context.Context, d time.Duration) { slept += d }})
	if err != nil {
		t.Fatal(err)
	}
	eng.Handle(ctx, turn(text("test")))
	eng.Handle(ctx, turn(text("nope")))
	if slept < 250*time.Millisecond {
		t.Fatalf("slept %v, want about 300ms", slept)
	}
}

func TestMermaid(t *testing.T) {
	m := (&testFlow{}).flow().Mermaid()
	if !strings.Contains(m, "stateDiagram") || !strings.Contains(m, "digits --> work") {
		t.Fatalf("diagram:\n%s", m)
	}
}

func TestStaleButtonRefused(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.eng.Handle(ctx, turn(text("test")))
	fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a", State: "ask"}))
	// The same button clicked again after the flow moved on.
	r := fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "b", State: "ask"}))
	if ids(r) != engine.MsgStale+",digits.prompt" || r.State != "digits" {
		t.Fatalf("got %q in %s", ids(r), r.State)
	}
	if len(fx.rec.Find(audit.NameOutOfOrder)) != 1 {
		t.Fatalf("not audited: %v", fx.rec.Names())
	}
}

func TestBinaryAndEmptyInput(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	for _, in := range []engine.Input{text(""), text("\x00\xff\xfe"), digits(""), {Kind: engine.InputChoice, Choice: "\x00"}, {Kind: 99}} {
		r := fx.eng.Handle(ctx, turn(in))
		if len(r.Outputs) == 0 {
			t.Fatalf("no reply for %v", in.Kind)
		}
	}
	fx.eng.Handle(ctx, turn(text("test")))
	r := fx.eng.Handle(ctx, turn(text("\x00\xff")))
	if ids(r) != "ask.bad,ask.prompt" {
		t.Fatalf("got %q", ids(r))
	}
}

func TestUnknownStoredStateIsDropped(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	rec := `{"id":"x","f":"test","s":"state_from_another_version","c":"console","cu":"U1","t0":` +
		strconv.FormatInt(fx.now.Unix(), 10) + `,"t":` + strconv.FormatInt(fx.now.Unix(), 10) + `}`
	if _, err := fx.st.Set(ctx, engine.SessionKey("console", "U1"), []byte(rec), time.Hour); err != nil {
		t.Fatal(err)
	}
	if r := fx.eng.Handle(ctx, turn(text("test"))); ids(r) != "ask.prompt" {
		t.Fatalf("got %q", ids(r))
	}
}

func TestPanicInStepIsContained(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.tf.fail = nil
	fx.eng.Handle(ctx, turn(text("test")))
	fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a"}))
	fx.tf.block = make(chan struct{})
	close(fx.tf.block)
	fx.tf.panics = true
	r := fx.eng.Handle(ctx, turn(digits("42")))
	if ids(r) != engine.MsgError {
		t.Fatalf("got %q", ids(r))
	}
	fx.tf.panics = false
	if r := fx.eng.Handle(ctx, turn(digits("42"))); ids(r) != "done" {
		t.Fatalf("after the panic: %q (lock not released?)", ids(r))
	}
}

func TestBusyDeliveryIsRetried(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.tf.block = make(chan struct{})
	fx.eng.Handle(ctx, turn(text("test")))
	fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a"}))
	done := make(chan engine.Reply)
	go func() { done <- fx.eng.Handle(ctx, turn(digits("41"))) }()
	for {
		if fx.leaseHeld(t) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	retry := turn(digits("42"))
	retry.DeliveryID = "evt-9"
	if r := fx.eng.Handle(ctx, retry); ids(r) != engine.MsgBusy {
		t.Fatalf("got %q", ids(r))
	}
	close(fx.tf.block)
	<-done
	if r := fx.eng.Handle(ctx, retry); ids(r) != "done" || r.Duplicate {
		t.Fatalf("retry of a busy delivery: %q duplicate=%v", ids(r), r.Duplicate)
	}
}

func TestStepFromAnotherConversationRefused(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	old := fx.eng.Handle(ctx, turn(text("test")))
	fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputCancel}))
	fresh := fx.eng.Handle(ctx, turn(text("test")))
	if old.Step == fresh.Step || engine.StepState(old.Step) != "ask" {
		t.Fatalf("steps %q and %q", old.Step, fresh.Step)
	}
	r := fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a", State: old.Step}))
	if ids(r) != engine.MsgStale+",ask.prompt" {
		t.Fatalf("old conversation's button: %q", ids(r))
	}
	if r := fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a", State: fresh.Step})); r.State != "digits" {
		t.Fatalf("current button: %s", r.State)
	}
}

// testWords are the words the engine tests type; real ones come from the
// message catalogs.
var testWords = engine.Words{
	Cancel: map[string]bool{"cancel": true, "cancelar": true, "annuler": true},
	Agent:  map[string]bool{"agent": true, "help desk": true},
	Help:   map[string]bool{"help": true},
	Switch: map[string]string{"français": "fr"},
}
