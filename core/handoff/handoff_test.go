package handoff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/audit/audittest"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/bolt"
	"github.com/resetbot/resetbot/core/store/memory"
)

// onBolt makes newFixture use an embedded bbolt store instead of memory.
var onBolt bool

// TestOnBolt runs the store scenarios again on bbolt: the Store relies only
// on the store.Store contract, so every backend must give the same results.
func TestOnBolt(t *testing.T) {
	onBolt = true
	defer func() { onBolt = false }()
	for name, f := range map[string]func(*testing.T){
		"CreateGet": TestCreateGet, "UpdateLifecycle": TestUpdateLifecycle, "ConcurrentTerminal": TestUpdateConcurrentTerminal,
		"Expiry": TestExpiry, "Codes": TestCodes, "NoSecretInRecord": TestNoSecretInRecord, "Start": TestStart,
	} {
		t.Run(name, f)
	}
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// hook records terminal notifications.
type hook struct {
	mu   sync.Mutex
	seen []handoff.Handoff
}

func (h *hook) Terminal(_ context.Context, x handoff.Handoff) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, x)
}

func (h *hook) count() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.seen) }

type fixture struct {
	s     *handoff.Store
	mem   store.Store
	clk   *clock
	rec   *audit.Recorder
	hook  *hook
	log   *loggingtest.Buffer
	codes []string
}

func newFixture(t *testing.T, opts handoff.Options) *fixture {
	t.Helper()
	clk := &clock{now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	var mem store.Store = memory.New(memory.WithClock(clk.Now))
	if onBolt {
		b, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.WithClock(clk.Now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		mem = b
	}
	f := &fixture{mem: mem, clk: clk, rec: &audit.Recorder{}, hook: &hook{}}
	lg, buf := loggingtest.Capture(t)
	f.log = buf
	opts.Clock, opts.Audit, opts.Terminal, opts.Log = clk.Now, f.rec, f.hook, lg
	f.s = handoff.NewStore(mem, bytes.Repeat([]byte("k"), 32), opts)
	t.Cleanup(func() {
		audittest.AssertNoSecrets(t, f.rec, f.codes...)
		buf.AssertNoSecrets(t, f.codes...)
	})
	return f
}

func (f *fixture) create(t *testing.T) handoff.Handoff {
	t.Helper()
	h, err := f.s.Create(context.Background(), handoff.Handoff{Action: handoff.ActionReset, User: "amartin",
		Channel: handoff.ChannelSMS, Requester: "apikey:itsm"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (f *fixture) issue(t *testing.T, id string) secret.String {
	t.Helper()
	c, _, err := f.s.IssueCode(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	f.codes = append(f.codes, c.Reveal())
	return c
}

func TestCreateGet(t *testing.T) {
	f := newFixture(t, handoff.Options{})
	ctx := context.Background()
	h := f.create(t)
	if !handoff.ValidID(h.ID) || h.Status != handoff.StatusPending || len(h.Events) != 1 {
		t.Fatalf("created %+v", h)
	}
	got, err := f.s.Get(ctx, h.ID)
	if err != nil || got.ID != h.ID || got.User != "amartin" {
		t.Fatalf("get: %+v %v", got, err)
	}
	h2 := f.create(t)
	if h2.ID == h.ID {
		t.Fatal("IDs repeat")
	}
	for _, id := range []string{"", "nope", strings.Repeat("A", 22), "../../etc/passwd"} {
		if _, err := f.s.Get(ctx, id); !errors.Is(err, handoff.ErrNotFound) {
			t.Errorf("Get(%q) = %v", id, err)
		}
	}
	audittest.AssertNames(t, f.rec, handoff.NameCreated, handoff.NameCreated)
}

func TestCreateInvalid(t *testing.T) {
	f := newFixture(t, handoff.Options{})
	ok := handoff.Handoff{Action: handoff.ActionUnlock, User: "bnguyen", Channel: "teams", Requester: "agent:slack:U1"}
	tests := []struct {
		name string
		mod  func(*handoff.Handoff)
	}{
		{"action", func(h *handoff.Handoff) { h.Action = "delete" }},
		{"channel", func(h *handoff.Handoff) { h.Channel = "no such/channel" }},
		{"no user", func(h *handoff.Handoff) { h.User = "" }},
		{"newline in user", func(h *handoff.Handoff) { h.User = "a\nb" }},
		{"long user", func(h *handoff.Handoff) { h.User = strings.Repeat("a", 300) }},
		{"no requester", func(h *handoff.Handoff) { h.Requester = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := ok
			tt.mod(&h)
			if _, err := f.s.Create(context.Background(), h); !errors.Is(err, handoff.ErrInvalid) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestUpdateLifecycle(t *testing.T) {
	f := newFixture(t, handoff.Options{})
	ctx := context.Background()
	h := f.create(t)
	steps := []struct {
		ev   handoff.Event
		want handoff.Status
		err  error
	}{
		{handoff.Event{Status: handoff.StatusStarted, Ref: "R-1"}, handoff.StatusStarted, nil},
		{handoff.Event{Status: handoff.StatusVerified, Factor: "totp"}, handoff.StatusVerified, nil},
		{handoff.Event{Status: handoff.StatusStarted}, handoff.StatusVerified, nil}, // late: ignored
		{handoff.Event{Status: handoff.StatusPending}, "", handoff.ErrInvalid},
		{handoff.Event{Status: "bogus"}, "", handoff.ErrInvalid},
		{handoff.Event{Status: handoff.StatusDone, Ref: "R-2"}, handoff.StatusDone, nil},
		{handoff.Event{Status: handoff.StatusFailed}, "", handoff.ErrFinal},
	}
	for i, st := range steps {
		got, err := f.s.Update(ctx, h.ID, st.ev)
		if !errors.Is(err, st.err) || (err == nil && got.Status != st.want) {
			t.Fatalf("step %d: status %q err %v", i, got.Status, err)
		}
	}
	got, _ := f.s.Get(ctx, h.ID)
	if got.Factor != "totp" || got.Ref != "R-2" || len(got.Events) != 4 {
		t.Fatalf("final %+v", got)
	}
	if f.hook.count() != 1 || f.hook.seen[0].Status != handoff.StatusDone {
		t.Fatalf("terminal hook %+v", f.hook.seen)
	}
	if _, err := f.s.Update(ctx, "AAAAAAAAAAAAAAAAAAAAAA", handoff.Event{Status: handoff.StatusDone}); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestUpdateEventsBounded(t *testing.T) {
	f := newFixture(t, handoff.Options{})
	h := f.create(t)
	for range 3 * handoff.MaxEvents {
		if _, err := f.s.Update(context.Background(), h.ID, handoff.Event{Status: handoff.StatusStarted}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := f.s.Get(context.Background(), h.ID)
	if len(got.Events) != handoff.MaxEvents {
		t.Fatalf("%d events", len(got.Events))
	}
}

// TestUpdateConcurrentTerminal: many replicas report at once; exactly one
// terminal status wins and the hook fires once.
func TestUpdateConcurrentTerminal(t *testing.T) {
	f := newFixture(t, handoff.Options{})
	h := f.create(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := []handoff.Status{handoff.StatusDone, handoff.StatusFailed, handoff.StatusEscalated}[i%3]
			if _, err := f.s.Update(context.Background(), h.ID, handoff.Event{Status: st}); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, handoff.ErrFinal) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || f.hook.count() != 1 {
		t.Fatalf("wins %d hook %d", wins, f.hook.count())
	}
}

func TestExpiry(t *testing.T) {
	f := newFixture(t, handoff.Options{TTL: time.Hour})
	ctx := context.Background()
	h := f.create(t)
	f.clk.Add(time.Hour + time.Second)
	got, err := f.s.Get(ctx, h.ID)
	if err != nil || got.Status != handoff.StatusExpired {
		t.Fatalf("get after ttl: %+v %v", got.Status, err)
	}
	if _, err := f.s.Update(ctx, h.ID, handoff.Event{Status: handoff.StatusDone}); !errors.Is(err, handoff.ErrFinal) {
		t.Fatalf("update after expiry: %v", err)
	}
	if f.hook.count() != 1 {
		t.Fatalf("hook %d", f.hook.count())
	}
	f.clk.Add(handoff.DefaultRetention + time.Hour)
	if _, err := f.s.Get(ctx, h.ID); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("after retention: %v", err)
	}
}

func TestCodes(t *testing.T) {
	ctx := context.Background()
	t.Run("redeem once", func(t *testing.T) {
		f := newFixture(t, handoff.Options{})
		h := f.create(t)
		code := f.issue(t, h.ID)
		if code.Len() != handoff.DefaultCodeDigits {
			t.Fatalf("code length %d", code.Len())
		}
		got, ok, err := f.s.RedeemCode(ctx, code)
		if err != nil || !ok || got.ID != h.ID {
			t.Fatalf("redeem: %v %v %v", got.ID, ok, err)
		}
		if _, ok, err := f.s.RedeemCode(ctx, code); ok || err != nil {
			t.Fatalf("reused code: %v %v", ok, err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		f := newFixture(t, handoff.Options{CodeTTL: time.Hour}) // capped at 10m
		h := f.create(t)
		code := f.issue(t, h.ID)
		f.clk.Add(handoff.MaxCodeTTL + time.Second)
		if _, ok, err := f.s.RedeemCode(ctx, code); ok || err != nil {
			t.Fatalf("expired code: %v %v", ok, err)
		}
	})
	t.Run("replaced", func(t *testing.T) {
		f := newFixture(t, handoff.Options{})
		h := f.create(t)
		old := f.issue(t, h.ID)
		code := f.issue(t, h.ID)
		if _, ok, _ := f.s.RedeemCode(ctx, old); ok {
			t.Fatal("old code still works")
		}
		if _, ok, _ := f.s.RedeemCode(ctx, code); !ok {
			t.Fatal("new code refused")
		}
	})
	t.Run("finished handoff", func(t *testing.T) {
		f := newFixture(t, handoff.Options{})
		h := f.create(t)
		code := f.issue(t, h.ID)
		if _, err := f.s.Update(ctx, h.ID, handoff.Event{Status: handoff.StatusFailed}); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := f.s.RedeemCode(ctx, code); ok {
			t.Fatal("code of a finished handoff works")
		}
		if _, _, err := f.s.IssueCode(ctx, h.ID); !errors.Is(err, handoff.ErrFinal) {
			t.Fatalf("issue on finished: %v", err)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		f := newFixture(t, handoff.Options{})
		for _, c := range []string{"", "1234", "abcdefgh", "123456789"} {
			if _, ok, err := f.s.RedeemCode(ctx, secret.New(c)); ok || err != nil {
				t.Fatalf("%q: %v %v", c, ok, err)
			}
		}
	})
	t.Run("throttled", func(t *testing.T) {
		f := newFixture(t, handoff.Options{MaxCodeFailures: 3})
		h := f.create(t)
		code := f.issue(t, h.ID)
		wrong := "00000000"
		if code.Reveal() == wrong {
			wrong = "11111111"
		}
		for range 3 {
			if _, ok, err := f.s.RedeemCode(ctx, secret.New(wrong)); ok || err != nil {
				t.Fatalf("wrong: %v %v", ok, err)
			}
		}
		if _, _, err := f.s.RedeemCode(ctx, code); !errors.Is(err, handoff.ErrThrottled) {
			t.Fatalf("want throttled, got %v", err)
		}
		f.clk.Add(handoff.DefaultCodeTTL + time.Second)
		code = f.issue(t, h.ID)
		if _, ok, err := f.s.RedeemCode(ctx, code); !ok || err != nil {
			t.Fatalf("after window: %v %v", ok, err)
		}
	})
}

// TestNoSecretInRecord: the stored record and the audit trail hold only the
// code's HMAC, never the code.
func TestNoSecretInRecord(t *testing.T) {
	f := newFixture(t, handoff.Options{})
	h := f.create(t)
	code := f.issue(t, h.ID)
	got, _ := f.s.Get(context.Background(), h.ID)
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), code.Reveal()) {
		t.Fatal("code in handoff JSON")
	}
	rec, err := f.mem.Get(context.Background(), "handoff:"+h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(rec.Value), code.Reveal()) {
		t.Fatal("code stored in clear")
	}
}

func TestStart(t *testing.T) {
	ctx := context.Background()
	in := handoff.Handoff{Action: handoff.ActionVerify, User: "alice.martin@demo.example", Channel: "slack", Requester: "agent:slack:U1"}
	t.Run("ok", func(t *testing.T) {
		f := newFixture(t, handoff.Options{})
		var seen handoff.Handoff
		h, err := f.s.Start(ctx, in, handoff.StarterFunc(func(_ context.Context, h handoff.Handoff) error {
			seen = h
			return nil
		}))
		if err != nil || h.Status != handoff.StatusStarted || seen.ID != h.ID {
			t.Fatalf("%+v %v", h, err)
		}
		audittest.AssertNames(t, f.rec, handoff.NameCreated, handoff.NameStarted, handoff.NameStatus)
		for _, e := range f.rec.Events() {
			if strings.Contains(e.Fields["target"], "alice.martin") {
				t.Fatalf("e-mail not masked: %+v", e)
			}
		}
	})
	t.Run("flow reported first", func(t *testing.T) {
		f := newFixture(t, handoff.Options{})
		h, err := f.s.Start(ctx, in, handoff.StarterFunc(func(ctx context.Context, h handoff.Handoff) error {
			_, err := f.s.Update(ctx, h.ID, handoff.Event{Status: handoff.StatusVerified, Factor: "sms"})
			return err
		}))
		if err != nil || h.Status != handoff.StatusVerified {
			t.Fatalf("%+v %v", h, err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		f := newFixture(t, handoff.Options{})
		h, err := f.s.Start(ctx, in, handoff.StarterFunc(func(context.Context, handoff.Handoff) error {
			return errors.New("slack: user_not_found")
		}))
		if err != nil || h.Status != handoff.StatusFailed || h.Reason != handoff.ReasonNotPossible || f.hook.count() != 1 {
			t.Fatalf("%+v %v", h, err)
		}
	})
}

func TestChangeHook(t *testing.T) {
	var seen []handoff.Status
	f := newFixture(t, handoff.Options{Changed: handoff.ChangeFunc(func(_ context.Context, h handoff.Handoff) {
		seen = append(seen, h.Status)
	})})
	h := f.create(t)
	for _, st := range []handoff.Status{handoff.StatusStarted, handoff.StatusStarted, handoff.StatusVerified, handoff.StatusStarted, handoff.StatusDone} {
		_, _ = f.s.Update(context.Background(), h.ID, handoff.Event{Status: st})
	}
	if fmt.Sprint(seen) != "[started started verified done]" {
		t.Fatalf("changes %v", seen)
	}
}

func TestHooks(t *testing.T) {
	a, b := &hook{}, &hook{}
	handoff.Hooks(a, nil, b).Terminal(context.Background(), handoff.Handoff{ID: "x"})
	if a.count() != 1 || b.count() != 1 {
		t.Fatal("hooks not all called")
	}
}

// BenchmarkIssueRedeem measures issuing and redeeming one phone code on the
// memory store.
func BenchmarkIssueRedeem(b *testing.B) {
	mem := memory.New()
	s := handoff.NewStore(mem, bytes.Repeat([]byte("k"), 32), handoff.Options{})
	h, err := s.Create(context.Background(), handoff.Handoff{Action: handoff.ActionReset, User: "amartin",
		Channel: handoff.ChannelSMS, Requester: "apikey:itsm"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c, _, err := s.IssueCode(context.Background(), h.ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok, err := s.RedeemCode(context.Background(), c); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// TestCodesAreLongerThanIdentifiers: phone handoff codes are 10 digits, and
// a configuration asking for a length an identifier could have (8-digit
// employee numbers) gets 10 anyway, so the keypad tells them apart.
func TestCodesAreLongerThanIdentifiers(t *testing.T) {
	for _, n := range []int{0, 6, 8, 10} {
		f := newFixture(t, handoff.Options{CodeDigits: n})
		c := f.issue(t, f.create(t).ID).Reveal()
		if len(c) != 10 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("CodeDigits %d: code of %d characters", n, len(c))
		}
		if _, ok, _ := f.s.RedeemCode(context.Background(), secret.New(c[:8])); ok {
			t.Fatal("an 8-digit prefix redeemed a code")
		}
	}
}
