package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
)

// gateSink blocks every write until open is closed, then records it.
type gateSink struct {
	open chan struct{}
	rec  audit.Recorder
	ctxs []error
	mu   sync.Mutex
}

func (g *gateSink) Write(ctx context.Context, e audit.Event) error {
	<-g.open
	g.mu.Lock()
	g.ctxs = append(g.ctxs, ctx.Err())
	g.mu.Unlock()
	return g.rec.Write(ctx, e)
}

func TestQueueSurvivesCancelledRequest(t *testing.T) {
	g := &gateSink{open: make(chan struct{})}
	q := audit.NewQueue(g, 8, nil)
	ctx, cancel := context.WithCancel(context.Background())
	if err := q.Write(ctx, audit.Event{Name: audit.NameResetDone, Fields: map[string]string{"try": "1"}}); err != nil {
		t.Fatal(err)
	}
	cancel() // the client hangs up before the sink gets the event
	close(g.open)
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(g.rec.Find(audit.NameResetDone)); n != 1 {
		t.Fatalf("recorded %d reset events, want 1", n)
	}
	for _, err := range g.ctxs {
		if err != nil {
			t.Errorf("sink saw a cancelled context: %v", err)
		}
	}
}

func TestQueueFullWritesSynchronouslyAndCounts(t *testing.T) {
	g := &gateSink{open: make(chan struct{})}
	q := audit.NewQueue(g, 2, nil)
	// One event is taken by the writer goroutine (blocked in the sink), two
	// fill the queue; the rest overflow and must block, not vanish.
	const n = 6
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := q.Write(context.Background(), audit.Event{Name: fmt.Sprint("e", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for q.Stats().Overloaded == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(g.open)
	wg.Wait()
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := q.Stats()
	if got := len(g.rec.Events()); got != n {
		t.Fatalf("recorded %d events, want %d (none may be dropped)", got, n)
	}
	if st.Overloaded == 0 || st.Written != n || st.Failed != 0 {
		t.Fatalf("stats %+v: want overloaded > 0, written %d", st, n)
	}
}

func TestQueueCloseFlushesAndLateWritesStillLand(t *testing.T) {
	var rec audit.Recorder
	q := audit.NewQueue(&rec, 64, nil)
	for i := range 50 {
		_ = q.Write(context.Background(), audit.Event{Name: fmt.Sprint("e", i)})
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.Events()); got != 50 {
		t.Fatalf("flushed %d of 50", got)
	}
	// A turn cut by shutdown writes after Close: synchronous, not lost.
	if err := q.Write(context.Background(), audit.Event{Name: "late"}); err != nil {
		t.Fatal(err)
	}
	if len(rec.Find("late")) != 1 {
		t.Fatal("write after Close lost")
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestQueueCloseReportsDeadline(t *testing.T) {
	g := &gateSink{open: make(chan struct{})}
	q := audit.NewQueue(g, 4, nil)
	for range 3 {
		_ = q.Write(context.Background(), audit.Event{Name: "x"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := q.Close(ctx); !errors.Is(err, audit.ErrQueueClosed) {
		t.Fatalf("Close past deadline = %v, want ErrQueueClosed", err)
	}
	close(g.open)
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(g.rec.Events()); got != 3 {
		t.Fatalf("recorded %d of 3 after a late flush", got)
	}
}

func TestQueueSyncErrorReturned(t *testing.T) {
	boom := errors.New("disk full")
	q := audit.NewQueue(errSink{boom}, 1, nil)
	_ = q.Close(context.Background())
	if err := q.Write(context.Background(), audit.Event{Name: "x"}); !errors.Is(err, boom) {
		t.Fatalf("sync write after close = %v, want the sink's error", err)
	}
	if st := q.Stats(); st.Failed != 1 {
		t.Fatalf("stats %+v", st)
	}
}
