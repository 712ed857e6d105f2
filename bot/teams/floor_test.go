package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/engine"
)

// floorWatch wraps the app's engine and counts the turns whose step is over
// and whose reply is not shown yet: each of them waits out its timing floor.
// Its Handle waits out the floor like engine.Engine.Handle, so a bot that
// used Handle would hold a worker per waiting turn.
type floorWatch struct {
	channel.Engine
	shown func() int // replies shown so far

	mu         sync.Mutex
	stepped    int
	maxWaiting int
	short      int // replies whose NotBefore was not a floor after the turn began
}

func (w *floorWatch) Run(ctx context.Context, t engine.Turn) engine.Reply {
	began := time.Now()
	r := w.Engine.(runner).Run(ctx, t)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stepped++
	w.maxWaiting = max(w.maxWaiting, w.stepped-w.shown())
	if r.NotBefore.Before(began.Add(loginFloor)) {
		w.short++
	}
	return r
}

func (w *floorWatch) Handle(ctx context.Context, t engine.Turn) engine.Reply {
	r := w.Run(ctx, t)
	time.Sleep(time.Until(r.NotBefore))
	return r
}

const loginFloor = 300 * time.Millisecond

// TestFloorDelaysTheReplyNotTheWorker: N people start a login at once, each
// turn with the 300 ms anti-enumeration floor, on a pool of 4 workers. The
// floor delays each reply, not its worker: more turns than there are
// workers wait out their floors at the same time (a worker waiting out the
// floor would allow at most 4, and the last turns would start N/4 floors
// late). Each activity is still answered only after its reply went out,
// and no sooner than its floor.
func TestFloorDelaysTheReplyNotTheWorker(t *testing.T) {
	const workers, people = 4, 16
	var watch *floorWatch
	r := newRigWith(t, rigOptions{floor: loginFloor, workers: workers, engine: func(e channel.Engine) channel.Engine {
		watch = &floorWatch{Engine: e}
		return watch
	}})
	posts := func(conv string) int {
		n := 0
		for _, c := range r.fake.requests() {
			if c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/activities") && strings.Contains(c.Path, conv) {
				n++
			}
		}
		return n
	}
	watch.shown = func() int { return posts("/v3/conversations/") }
	bodies := make([][]byte, people)
	for i := range bodies {
		act := r.activity(fmt.Sprintf("u%d", i), "message")
		act["text"] = "reset"
		b, err := json.Marshal(act)
		if err != nil {
			t.Fatal(err)
		}
		bodies[i] = b
	}
	auth := r.bearer()
	type answer struct {
		code   int
		shown  int
		err    error
		took   time.Duration
		person int
	}
	answers := make(chan answer, people)
	for i, body := range bodies {
		go func() {
			began := time.Now()
			code, err := postActivity(r.http.URL, body, auth)
			answers <- answer{code: code, err: err, took: time.Since(began), person: i,
				shown: posts(fmt.Sprintf("a:conv-u%d/", i))}
		}()
	}
	for range people {
		a := <-answers
		switch {
		case a.err != nil:
			t.Fatalf("person %d: %v", a.person, a.err)
		case a.code != http.StatusOK:
			t.Fatalf("person %d: HTTP %d", a.person, a.code)
		case a.shown != 1:
			t.Errorf("person %d: answered with %d replies shown, want 1 before the answer", a.person, a.shown)
		case a.took < loginFloor:
			t.Errorf("person %d: answered after %v, before the %v floor", a.person, a.took, loginFloor)
		}
	}
	watch.mu.Lock()
	defer watch.mu.Unlock()
	if watch.stepped != people || watch.short != 0 {
		t.Fatalf("%d turns ran, %d without the floor; want %d with it", watch.stepped, watch.short, people)
	}
	if watch.maxWaiting <= workers {
		t.Fatalf("at most %d turns waited out their floor at once with %d workers: the floor holds the workers", watch.maxWaiting, workers)
	}
	t.Logf("%d of %d turns waited out their floor at once on %d workers", watch.maxWaiting, people, workers)
}

// postActivity posts a signed activity and returns the HTTP status.
func postActivity(base string, body []byte, auth string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/api/messages", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
