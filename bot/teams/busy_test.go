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
	release := make(chan struct{})
	for !r.pool.Full() {
		if err := r.pool.Submit(func(context.Context) { <-release }); err != nil {
			break
		}
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
