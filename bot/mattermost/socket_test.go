package mattermost

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/engine"
)

// TestReconnect: a dropped WebSocket is dialled again, a refused
// authentication is retried (with backoff) until the server accepts, and
// the conversation goes on over the new connection.
func TestReconnect(t *testing.T) {
	e := newEnv(t)
	e.f.mu.Lock()
	e.f.refuseWS = true
	e.f.mu.Unlock()
	e.f.drop()
	waitFor(t, "a refused authentication", func() bool {
		e.f.mu.Lock()
		defer e.f.mu.Unlock()
		return e.f.auths >= 2
	})
	e.f.mu.Lock()
	e.f.refuseWS = false
	e.f.mu.Unlock()
	e.f.waitConn()
	waitFor(t, "the second connection", func() bool { return e.b.connected.Load() == 2 })
	if e.b.reconnects.Load() < 2 {
		t.Fatalf("reconnects %d, want the drop and the refusal", e.b.reconnects.Load())
	}
	if posts, _ := e.dm(uAlice, "reset my password"); !strings.Contains(texts(posts), e.msg("totp.prompt")) {
		t.Fatalf("no reply after reconnecting: %q", texts(posts))
	}
}

// blockingEngine holds every turn until release is closed.
type blockingEngine struct {
	e       Engine
	started chan struct{}
	release chan struct{}
}

func (b *blockingEngine) Handle(ctx context.Context, t engine.Turn) engine.Reply {
	b.started <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return b.e.Handle(ctx, t)
}

// TestBusy: with the one worker busy and the queue full, a further DM is
// answered that the bot is busy instead of waiting unbounded; the queued
// turns still run once the worker is free, and Shutdown waits for them.
func TestBusy(t *testing.T) {
	be := &blockingEngine{started: make(chan struct{}, 8), release: make(chan struct{})}
	e := newEnv(t, func(o *Options) {
		o.Config.Workers, o.Config.Queue = 1, 1
		be.e = o.Engine
		o.Engine = be
	})
	n := e.f.postCount()
	e.f.say(uAlice, "reset my password") // runs, blocked in the engine
	<-be.started
	e.f.say(uChiara, "unlock") // queued
	waitFor(t, "the queue to fill", func() bool { return e.b.pool.Full() })
	e.f.say(uNobody, "reset") // refused: busy
	waitFor(t, "the busy note", func() bool { return e.f.postCount() > n })
	if got := texts(e.f.botPosts(n)); got != e.msg(msgBusy) {
		t.Fatalf("busy note: %q", got)
	}
	close(be.release)
	<-be.started
	if err := e.b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.b.pool.Stats().Done; got != 2 {
		t.Fatalf("%d turns done at shutdown, want the running and the queued one", got)
	}
}

// TestShutdownCut: at the shutdown deadline a turn still running is cut,
// and Shutdown returns (dispatch.ErrCut) instead of waiting for it.
func TestShutdownCut(t *testing.T) {
	be := &blockingEngine{started: make(chan struct{}, 8), release: make(chan struct{})}
	e := newEnv(t, func(o *Options) { be.e = o.Engine; o.Engine = be })
	t.Cleanup(func() { close(be.release) })
	e.f.say(uAlice, "reset my password")
	<-be.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the budget is already spent
	if err := e.b.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown past its deadline reported nothing cut")
	}
}

// holdingEngine runs turns with the real engine, but stamps the reply of
// the person hold with a timing floor an hour ahead.
type holdingEngine struct {
	e    runner
	hold string
}

func (h *holdingEngine) Handle(ctx context.Context, t engine.Turn) engine.Reply { return h.Run(ctx, t) }

func (h *holdingEngine) Run(ctx context.Context, t engine.Turn) engine.Reply {
	r := h.e.Run(ctx, t)
	if t.ChannelUser == h.hold {
		r.NotBefore = time.Now().Add(time.Hour)
	}
	return r
}

// TestFloorOffTheWorker: a reply held back for its timing floor does not
// hold the worker (the one worker runs the next person's turn and posts
// its reply meanwhile), and at the shutdown deadline the held reply is
// abandoned instead of delaying shutdown.
func TestFloorOffTheWorker(t *testing.T) {
	he := &holdingEngine{hold: uAlice}
	e := newEnv(t, func(o *Options) {
		o.Config.Workers = 1
		he.e = o.Engine.(runner)
		o.Engine = he
	})
	n := e.f.postCount()
	e.dm(uAlice, "reset my password")
	posts, _ := e.dm(uChiara, "I'm locked out")
	if len(posts) == 0 || posts[0].ChannelID != e.f.dmID(uChiara) {
		t.Fatalf("the second person's reply was not posted while the first was held: %q", texts(posts))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = e.b.Shutdown(ctx)
	for _, p := range e.f.botPosts(n) {
		if p.ChannelID == e.f.dmID(uAlice) {
			t.Fatalf("the held reply was posted before its floor: %q", plain(p.Message))
		}
	}
}
