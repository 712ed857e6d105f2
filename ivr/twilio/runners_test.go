package twilio

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// goid is the running goroutine's number (runtime.Stack's first line).
func goid() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := bytes.Cut(bytes.TrimPrefix(buf, []byte("goroutine ")), []byte(" "))
	return string(id)
}

// TestTurnRunners: a turn never waits for a busy runner (two turns that
// block until both run), and a runner that finished takes the next turn
// instead of a new goroutine.
func TestTurnRunners(t *testing.T) {
	r := newTurnRunners()
	a, b := make(chan struct{}), make(chan struct{})
	r.run(func() { close(a); <-b })
	<-a
	both := make(chan struct{})
	r.run(func() { close(b); close(both) }) // would deadlock if it waited for the first runner
	<-both
	ids := make(chan string, 1)
	r.run(func() { ids <- goid() })
	first := <-ids
	for range 200 { // the runner reaches its wait just after the turn returns
		time.Sleep(time.Millisecond)
		r.run(func() { ids <- goid() })
		if <-ids == first {
			return
		}
	}
	t.Fatalf("an idle runner (goroutine %s) never took the next turn", first)
}
