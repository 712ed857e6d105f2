package teams

import (
	"context"
	"net/http"
	"testing"
)

// TestFullQueueAnswers503First: with the worker queue full, an activity is
// refused with 503 before its token is checked or its body parsed.
func TestFullQueueAnswers503First(t *testing.T) {
	r := newRig(t)
	release, started := make(chan struct{}), make(chan struct{})
	block := func(context.Context) { started <- struct{}{}; <-release }
	// Occupy both workers, then fill the queue behind them.
	for range 2 {
		if err := r.pool.Submit(block); err != nil {
			t.Fatal(err)
		}
		<-started
	}
	for r.pool.Submit(func(context.Context) { <-release }) == nil {
	}
	if !r.pool.Full() {
		t.Fatal("the queue is not full")
	}
	code, _ := r.post([]byte("not even json"), "")
	close(release)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", code)
	}
	if n := len(r.rejections()); n != 0 {
		t.Fatalf("%d authentication rejections recorded for a request refused as busy", n)
	}
}
