package notify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/secret"
)

const code = "846213"

func codeMessage() notify.Message {
	return notify.Message{
		Kind: notify.KindCode, To: "+15550100101", Summary: "reset.code_sent", Locale: "en",
		Body: secret.New("Your code is " + code), Voice: secret.New("Your code is 8, 4, 6, 2, 1, 3"),
	}
}

func TestMessageNeverPrintsBody(t *testing.T) {
	m := codeMessage()
	l, buf := loggingtest.Capture(t)
	l.Info("sending", "msg", m)
	l.Info(fmt.Sprintf("%v %+v %#v", m, m, m))
	buf.AssertNoSecrets(t, code, "8, 4, 6", "0100101")
	if !buf.Contains("•••0101") || !buf.Contains("reset.code_sent") {
		t.Errorf("log lacks masked destination or summary: %s", buf.String())
	}
}

// gate is a Sender that blocks until released and records what it sent.
type gate struct {
	release chan struct{}
	mu      sync.Mutex
	got     []string
	fail    map[string]error
	panics  map[string]bool
}

func newGate() *gate {
	return &gate{release: make(chan struct{}), fail: map[string]error{}, panics: map[string]bool{}}
}

func (g *gate) Send(ctx context.Context, m notify.Message) error {
	<-g.release
	if g.panics[m.Summary] {
		panic("boom")
	}
	if err := g.fail[m.Summary]; err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.got = append(g.got, m.Summary)
	return nil
}

func (g *gate) sent() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.got...)
}

func msg(summary string) notify.Message {
	return notify.Message{Kind: notify.KindNotice, To: "x", Summary: summary}
}

func TestQueueFullShedsLoad(t *testing.T) {
	g := newGate()
	q := notify.NewQueue(g, 2, 1)
	ctx := context.Background()
	// One message is taken by the worker (blocked in the gate), two fill the buffer.
	if err := q.Send(ctx, msg("m0")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for q.Stats().Pending != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	for i := 1; i <= 2; i++ {
		if err := q.Send(ctx, msg(fmt.Sprint("m", i))); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if err := q.Send(ctx, msg("m3")); !errors.Is(err, notify.ErrQueueFull) {
		t.Fatalf("4th send: err = %v, want ErrQueueFull", err)
	}
	if s := q.Stats(); s.Dropped != 1 || s.Pending != 2 {
		t.Errorf("stats = %+v", s)
	}
	close(g.release)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(g.sent(), ","); got != "m0,m1,m2" {
		t.Errorf("delivered %q, want m0,m1,m2 (Close must drain)", got)
	}
	if s := q.Stats(); s.Sent != 3 || s.Failed != 0 || s.Dropped != 1 || s.Pending != 0 {
		t.Errorf("stats after close = %+v", s)
	}
	if err := q.Send(ctx, msg("late")); !errors.Is(err, notify.ErrClosed) {
		t.Errorf("send after close: %v", err)
	}
	if err := q.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestQueueFailuresAndPanics(t *testing.T) {
	g := newGate()
	close(g.release)
	g.fail["bad"] = errors.New("provider 500")
	g.panics["panic"] = true
	var mu sync.Mutex
	var errs []string
	q := notify.NewQueue(g, 10, 1, notify.WithErrorHandler(func(m notify.Message, err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, m.Summary+": "+err.Error())
	}))
	for _, s := range []string{"ok1", "bad", "panic", "ok2"} {
		if err := q.Send(context.Background(), msg(s)); err != nil {
			t.Fatal(err)
		}
	}
	_ = q.Close()
	if s := q.Stats(); s.Sent != 2 || s.Failed != 2 {
		t.Errorf("stats = %+v", s)
	}
	if len(errs) != 2 || !strings.Contains(errs[0], "provider 500") || !strings.Contains(errs[1], "panicked") {
		t.Errorf("errors = %q", errs)
	}
}

func TestQueueDetachesCancellationAndTimesOut(t *testing.T) {
	var sawCancelled, sawDeadline atomic.Bool
	inner := notify.SenderFunc(func(ctx context.Context, m notify.Message) error {
		if ctx.Err() != nil {
			sawCancelled.Store(true)
		}
		_, sawDL := ctx.Deadline()
		sawDeadline.Store(sawDL)
		return nil
	})
	q := notify.NewQueue(inner, 1, 1, notify.WithSendTimeout(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	if err := q.Send(ctx, msg("m")); err != nil {
		t.Fatal(err)
	}
	cancel() // the chat request ended; delivery must still happen
	_ = q.Close()
	if sawCancelled.Load() {
		t.Error("worker saw the caller's cancellation")
	}
	if !sawDeadline.Load() {
		t.Error("WithSendTimeout did not set a deadline")
	}
	if q.Stats().Sent != 1 {
		t.Errorf("stats = %+v", q.Stats())
	}
}

func TestQueueConcurrentSendClose(t *testing.T) {
	var n atomic.Int64
	inner := notify.SenderFunc(func(context.Context, notify.Message) error { n.Add(1); return nil })
	q := notify.NewQueue(inner, 4, 2)
	var wg sync.WaitGroup
	var accepted atomic.Int64
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				err := q.Send(context.Background(), msg("m"))
				switch {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, notify.ErrQueueFull), errors.Is(err, notify.ErrClosed):
				default:
					t.Errorf("unexpected error %v", err)
				}
			}
		}()
	}
	time.Sleep(time.Millisecond)
	_ = q.Close()
	wg.Wait()
	if got := n.Load(); got != accepted.Load() {
		t.Errorf("delivered %d, accepted %d: every accepted message must be delivered", got, accepted.Load())
	}
}
