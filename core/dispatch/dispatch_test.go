package dispatch_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/dispatch"
)

func TestBoundedAndRecovers(t *testing.T) {
	p := dispatch.New(1, 2, time.Second, nil)
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	started := make(chan struct{})
	if err := p.Submit(func(context.Context) { close(started); <-release; wg.Done() }); err != nil {
		t.Fatal(err)
	}
	<-started
	for i := 0; i < 2; i++ {
		if err := p.Submit(func(context.Context) {}); err != nil {
			t.Fatalf("queue slot %d: %v", i, err)
		}
	}
	if err := p.Submit(func(context.Context) {}); !errors.Is(err, dispatch.ErrFull) {
		t.Fatalf("full queue accepted work: %v", err)
	}
	close(release)
	wg.Wait()
	if err := p.Submit(func(context.Context) { panic("boom") }); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	for p.Submit(func(context.Context) { close(done) }) != nil {
		time.Sleep(time.Millisecond)
	}
	<-done
	p.Close()
	st := p.Stats()
	if st.Rejected != 1 || st.Panics != 1 || st.Done != 4 {
		t.Fatalf("stats %+v", st)
	}
	if err := p.Submit(func(context.Context) {}); !errors.Is(err, dispatch.ErrClosed) {
		t.Fatalf("closed pool accepted work: %v", err)
	}
}
