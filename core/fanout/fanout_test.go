package fanout_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/fanout"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
)

const pwText = "Fan-Out-Passw0rd-7731"

// fakeTarget fails its first `fails` pushes (or forever when fails < 0).
type fakeTarget struct {
	name   string
	cons   fanout.Constraints
	fails  int
	err    error
	delay  time.Duration
	mu     sync.Mutex
	pushes []string
	calls  atomic.Int32
}

func (t *fakeTarget) Name() string                    { return t.name }
func (t *fakeTarget) Label() string                   { return strings.ToUpper(t.name) }
func (t *fakeTarget) Constraints() fanout.Constraints { return t.cons }
func (t *fakeTarget) Push(ctx context.Context, r fanout.Request) error {
	u, pw := r.User, r.Password
	n := t.calls.Add(1)
	if t.delay > 0 {
		select {
		case <-time.After(t.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if t.fails < 0 || int(n) <= t.fails {
		if t.err != nil {
			return t.err
		}
		return errors.New("target down")
	}
	t.mu.Lock()
	t.pushes = append(t.pushes, u.Login+"="+pw.Reveal())
	t.mu.Unlock()
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type rig struct {
	st    store.Store
	clk   *clock
	ring  *crypt.Keyring
	rec   *audit.Recorder
	mu    sync.Mutex
	fails []fanout.Failure
}

func newRig(t *testing.T) *rig {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)}
	return newRigOn(t, storemem.New(storemem.WithClock(clk.Now)), clk)
}

// newRigOn runs on st (a shared store such as Redis) with clk.
func newRigOn(t *testing.T, st store.Store, clk *clock) *rig {
	t.Helper()
	ring, err := crypt.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{st: st, clk: clk, ring: ring, rec: &audit.Recorder{}}
}

func (r *rig) fanout(t *testing.T, ts ...fanout.Target) *fanout.Fanout {
	t.Helper()
	var es []fanout.Entry
	for _, x := range ts {
		es = append(es, fanout.Entry{Target: x, Timeout: 200 * time.Millisecond})
	}
	f, err := fanout.New(fanout.Options{Targets: map[string][]fanout.Entry{"corp": es}, Store: r.st, Keyring: r.ring,
		Window: 5 * time.Minute, Audit: r.rec, Now: r.clk.Now,
		OnFailed: func(_ context.Context, fl fanout.Failure) { r.mu.Lock(); r.fails = append(r.fails, fl); r.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var alice = directory.User{ID: "uid=alice,ou=people,dc=example,dc=org", Directory: "corp", Login: "alice"}

// noSecret fails when the password appears in the audit or in the outbox's
// stored bytes.
func (r *rig) noSecret(t *testing.T, keys ...string) {
	t.Helper()
	for _, e := range r.rec.Events() {
		if strings.Contains(e.Reason+e.Actor+e.Ref+strings.Join(mapValues(e.Fields), " "), pwText) {
			t.Fatalf("password in audit event %s", e.Name)
		}
	}
	for _, k := range keys {
		rec, err := r.st.Get(context.Background(), k)
		if err != nil {
			continue
		}
		if bytes.Contains(rec.Value, []byte(pwText)) || bytes.Contains(rec.Value, []byte(alice.ID)) {
			t.Fatalf("store key %s holds the password or the DN in clear", k)
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestPushInOrderAllDone(t *testing.T) {
	r := newRig(t)
	a, b := &fakeTarget{name: "a"}, &fakeTarget{name: "b"}
	f := r.fanout(t, a, b)
	rep := f.Push(context.Background(), fanout.Origin{Ref: "REF1"}, alice, secret.New(pwText))
	if len(rep.Results) != 2 || rep.Results[0].Name != "a" || rep.Results[1].Name != "b" {
		t.Fatalf("results %+v", rep.Results)
	}
	for _, x := range rep.Results {
		if x.Status != fanout.StatusDone {
			t.Fatalf("%s: %s", x.Name, x.Status)
		}
	}
	if len(a.pushes) != 1 || a.pushes[0] != "alice="+pwText {
		t.Fatalf("a got %v", a.pushes)
	}
	if n := len(r.rec.Find(fanout.NamePush)); n != 2 {
		t.Fatalf("%d push events", n)
	}
	r.noSecret(t)
	if f.Has(directory.User{Directory: "other"}) || !f.Has(alice) {
		t.Fatal("Has")
	}
}

func TestFailedTargetIsSealedRetriedAndDeleted(t *testing.T) {
	r := newRig(t)
	a, b := &fakeTarget{name: "a", fails: 2}, &fakeTarget{name: "b"}
	f := r.fanout(t, a, b)
	rep := f.Push(context.Background(), fanout.Origin{Ref: "REF2"}, alice, secret.New(pwText))
	if rep.Results[0].Status != fanout.StatusPending || rep.Results[1].Status != fanout.StatusDone {
		t.Fatalf("results %+v", rep.Results)
	}
	if got := rep.Labels(fanout.StatusPending); len(got) != 1 || got[0] != "A" {
		t.Fatalf("pending labels %v", got)
	}
	r.noSecret(t, "fanout:index")
	// Not due yet: nothing happens.
	if n, err := f.Sweep(context.Background()); err != nil || n != 0 || a.calls.Load() != 1 {
		t.Fatalf("early sweep: %d %v calls=%d", n, err, a.calls.Load())
	}
	r.clk.Add(16 * time.Second)
	if n, err := f.Sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("second try should fail: %d %v", n, err)
	}
	r.clk.Add(31 * time.Second)
	if n, err := f.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("third try should succeed: %d %v", n, err)
	}
	if len(a.pushes) != 1 || a.pushes[0] != "alice="+pwText {
		t.Fatalf("a got %v", a.pushes)
	}
	if len(r.fails) != 0 {
		t.Fatalf("reported failed: %+v", r.fails)
	}
	r.noSecret(t, "fanout:index")
	// Nothing left to retry.
	r.clk.Add(5 * time.Minute)
	if n, _ := f.Sweep(context.Background()); n != 0 || a.calls.Load() != 3 {
		t.Fatalf("item not deleted: calls=%d", a.calls.Load())
	}
}

func TestWindowClosesReportedOnceAcrossReplicas(t *testing.T) {
	r := newRig(t)
	a := &fakeTarget{name: "a", fails: -1}
	f1, f2 := r.fanout(t, a), r.fanout(t, a)
	f1.Push(context.Background(), fanout.Origin{Ref: "REF3"}, alice, secret.New(pwText))
	for range 20 {
		r.clk.Add(30 * time.Second)
		var wg sync.WaitGroup
		for _, f := range []*fanout.Fanout{f1, f2} {
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = f.Sweep(context.Background()) }()
		}
		wg.Wait()
	}
	if len(r.fails) != 1 || r.fails[0].Reason != "expired" || r.fails[0].Ref != "REF3" || r.fails[0].Label != "A" {
		t.Fatalf("failures %+v", r.fails)
	}
	// Inline try + retries at 15s, 30s, 60s, 120s, 120s backoff within 5 min.
	if c := a.calls.Load(); c < 3 || c > 8 {
		t.Fatalf("%d attempts", c)
	}
	if len(r.rec.Find(fanout.NameFailed)) != 1 {
		t.Fatal("failure not audited once")
	}
	r.noSecret(t, "fanout:index")
}

func TestReplicasNeverPushTheSameItemTwice(t *testing.T) {
	r := newRig(t)
	a := &fakeTarget{name: "a", fails: 1, delay: 20 * time.Millisecond}
	fs := []*fanout.Fanout{r.fanout(t, a), r.fanout(t, a), r.fanout(t, a), r.fanout(t, a)}
	fs[0].Push(context.Background(), fanout.Origin{Ref: "REF4"}, alice, secret.New(pwText))
	r.clk.Add(20 * time.Second)
	var wg sync.WaitGroup
	var done atomic.Int32
	for _, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := f.Sweep(context.Background())
			if err != nil {
				t.Error(err)
			}
			done.Add(int32(n))
		}()
	}
	wg.Wait()
	if a.calls.Load() != 2 || done.Load() != 1 || len(a.pushes) != 1 {
		t.Fatalf("calls=%d done=%d pushes=%d", a.calls.Load(), done.Load(), len(a.pushes))
	}
}

func TestPermanentFailureReportedAtOnce(t *testing.T) {
	r := newRig(t)
	a := &fakeTarget{name: "a", fails: -1, err: fmt.Errorf("no such account: %w", fanout.ErrPermanent)}
	f := r.fanout(t, a)
	rep := f.Push(context.Background(), fanout.Origin{Ref: "REF5"}, alice, secret.New(pwText))
	if rep.Results[0].Status != fanout.StatusFailed || len(r.fails) != 1 || r.fails[0].Reason != "permanent" {
		t.Fatalf("results %+v failures %+v", rep.Results, r.fails)
	}
	if _, err := r.st.Get(context.Background(), "fanout:index"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("permanent failure queued: %v", err)
	}
}

func TestTimeoutBoundsEachTarget(t *testing.T) {
	r := newRig(t)
	slow, b := &fakeTarget{name: "slow", delay: time.Hour}, &fakeTarget{name: "b"}
	f := r.fanout(t, slow, b)
	start := time.Now()
	rep := f.Push(context.Background(), fanout.Origin{Ref: "REF6"}, alice, secret.New(pwText))
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("push took %s despite a 200ms timeout", el)
	}
	if rep.Results[0].Status != fanout.StatusPending || rep.Results[1].Status != fanout.StatusDone {
		t.Fatalf("results %+v", rep.Results)
	}
}

func TestOutboxIsBounded(t *testing.T) {
	r := newRig(t)
	a := &fakeTarget{name: "a", fails: -1}
	f, err := fanout.New(fanout.Options{Targets: map[string][]fanout.Entry{"corp": {{Target: a}}}, Store: r.st,
		Keyring: r.ring, Now: r.clk.Now, MaxItems: 2,
		OnFailed: func(_ context.Context, fl fanout.Failure) { r.fails = append(r.fails, fl) }})
	if err != nil {
		t.Fatal(err)
	}
	var last fanout.Report
	for range 3 {
		last = f.Push(context.Background(), fanout.Origin{Ref: "REF7"}, alice, secret.New(pwText))
	}
	if last.Results[0].Status != fanout.StatusFailed || len(r.fails) != 1 || r.fails[0].Reason != "outbox_full" {
		t.Fatalf("third push %+v failures %+v", last.Results, r.fails)
	}
}

func TestCheckNamesTheRefusingTarget(t *testing.T) {
	r := newRig(t)
	a := &fakeTarget{name: "a", cons: fanout.Constraints{MinLength: 8}}
	k := &fakeTarget{name: "vpn", cons: fanout.Constraints{MaxLength: 16, ASCIIOnly: true, Forbidden: ":"}}
	f := r.fanout(t, a, k)
	for pw, want := range map[string]string{
		"short":                    fanout.ReasonTooShort,
		"a-much-too-long-password": fanout.ReasonTooLong,
		"Contraseña-ñ1":            fanout.ReasonCharset,
		"has:colon-1":              fanout.ReasonForbidden,
		"Fine-Passw0rd":            "",
	} {
		ref, err := f.Check(context.Background(), alice, secret.New(pw))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case want == "" && ref != nil:
			t.Errorf("%q refused: %+v", pw, ref)
		case want != "" && (ref == nil || ref.Reason != want):
			t.Errorf("%q: got %+v, want %s", pw, ref, want)
		case ref != nil && ref.Reason != fanout.ReasonTooShort && ref.Label != "VPN":
			t.Errorf("%q: refusal names %q", pw, ref.Label)
		}
	}
	ref, _ := f.Check(context.Background(), alice, secret.New("short"))
	if ref.MessageID() != "fanout.refused.too_short" || ref.Args()["target"] != "A" || ref.Args()["n"] != "8" {
		t.Fatalf("refusal %+v %v", ref, ref.Args())
	}
	if ref, _ := f.Check(context.Background(), directory.User{Directory: "none"}, secret.New("x")); ref != nil {
		t.Fatal("a directory without targets refused")
	}
}

func TestWindowIsCapped(t *testing.T) {
	r := newRig(t)
	if _, err := fanout.New(fanout.Options{Store: r.st, Keyring: r.ring, Window: 11 * time.Minute}); err == nil {
		t.Fatal("an 11-minute window was accepted")
	}
}

// TestReplicasOnRealRedis: four replicas sharing a real Redis push a due
// item exactly once, and report an expired one exactly once.
func TestReplicasOnRealRedis(t *testing.T) {
	st, err := redis.Open(context.Background(), redis.Config{Addrs: []string{testserver.Redis(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r := newRigOn(t, st, &clock{t: time.Now()})
	ok := &fakeTarget{name: "ok", fails: 1, delay: 20 * time.Millisecond}
	down := &fakeTarget{name: "down", fails: -1}
	var fs []*fanout.Fanout
	for range 4 {
		fs = append(fs, r.fanout(t, ok, down))
	}
	fs[0].Push(context.Background(), fanout.Origin{Ref: "REF-R"}, alice, secret.New(pwText))
	sweepAll := func() {
		var wg sync.WaitGroup
		for _, f := range fs {
			wg.Go(func() {
				if _, err := f.Sweep(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	r.clk.Add(20 * time.Second)
	sweepAll()
	if ok.calls.Load() != 2 || len(ok.pushes) != 1 {
		t.Fatalf("ok target: %d calls, %d successes", ok.calls.Load(), len(ok.pushes))
	}
	for range 12 {
		r.clk.Add(30 * time.Second)
		sweepAll()
	}
	if len(r.fails) != 1 || r.fails[0].Target != "down" {
		t.Fatalf("failures %+v", r.fails)
	}
	r.noSecret(t, "fanout:index")
}

// TestInlineBudgetBoundsTheWholeFanout: a reset waits at most the inline
// budget for all its targets together; the rest are queued, not dropped.
func TestInlineBudgetBoundsTheWholeFanout(t *testing.T) {
	r := newRig(t)
	slow, b := &fakeTarget{name: "slow", delay: time.Hour}, &fakeTarget{name: "b"}
	f, err := fanout.New(fanout.Options{Targets: map[string][]fanout.Entry{"corp": {{Target: slow, Timeout: 300 * time.Millisecond}, {Target: b}}},
		Store: r.st, Keyring: r.ring, Now: r.clk.Now, InlineBudget: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep := f.Push(context.Background(), fanout.Origin{Ref: "REF8"}, alice, secret.New(pwText))
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("push took %s despite a 100ms budget", el)
	}
	if rep.Results[0].Status != fanout.StatusPending || rep.Results[1].Status != fanout.StatusPending || b.calls.Load() != 0 {
		t.Fatalf("results %+v, b called %d times", rep.Results, b.calls.Load())
	}
	r.clk.Add(20 * time.Second)
	if _, err := f.Sweep(context.Background()); err != nil || len(b.pushes) != 1 {
		t.Fatalf("queued target not pushed by the worker: %v, %v", err, b.pushes)
	}
}
