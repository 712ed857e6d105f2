package slack

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/slack-go/slack/slackevents"

	"github.com/resetbot/resetbot/core/engine"
)

// With the store known to be down, Slack is told 503 before the request is
// read, so it redelivers the event later, instead of an ack and an error.
func TestStoreDownIsRetriedBySlack(t *testing.T) {
	e := newEnv(t, false)
	e.spy.down.Store(true)
	if code := e.tr.event(t, messageEvent("EvDown", "U1", "DU1", "reset")); code != 503 {
		t.Fatalf("event with the store down: %d, want 503", code)
	}
	e.spy.down.Store(false)
	e.step(func() {
		if code := e.tr.event(t, messageEvent("EvDown", "U1", "DU1", "reset")); code != 200 {
			t.Fatalf("redelivery: %d", code)
		}
	})
	if n := e.spy.turns.Load(); n != 1 {
		t.Fatalf("%d turns, want 1", n)
	}
}

// The one-pass event decoder gives what slackevents.ParseEvent gives for the
// events the bot serves.
func TestParseEventMatchesSlackevents(t *testing.T) {
	for _, body := range [][]byte{
		messageEvent("Ev1", "U1", "DU1", "reset"),
		mentionEvent("Ev2", "U1", "C1", "<@U0> unlock"),
		bytes.Replace(messageEvent("Ev3", "U1", "DU1", "reset"), []byte(`"api_app_id"`), []byte(`"enterprise_id":"E1","api_app_id"`), 1),
		[]byte(`{"type":"url_verification","challenge":"x"}`),
	} {
		got, err := parseEvent(body)
		if err != nil {
			t.Fatal(err)
		}
		want, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != want.Type || got.TeamID != want.TeamID || got.EnterpriseID != want.EnterpriseID || got.APIAppID != want.APIAppID {
			t.Fatalf("envelope %+v, want %+v", got, want)
		}
		if ch, ok := challenge(got); ok {
			if wch, _ := challenge(want); ch != wch {
				t.Fatalf("challenge %q, want %q", ch, wch)
			}
			continue
		}
		gcb, wcb := got.Data.(*slackevents.EventsAPICallbackEvent), want.Data.(*slackevents.EventsAPICallbackEvent)
		if gcb.EventID != wcb.EventID || gcb.TeamID != wcb.TeamID || gcb.EnterpriseID != wcb.EnterpriseID || gcb.APIAppID != wcb.APIAppID {
			t.Fatalf("callback %+v, want %+v", gcb, wcb)
		}
		switch w := want.InnerEvent.Data.(type) {
		case *slackevents.MessageEvent:
			g := got.InnerEvent.Data.(*slackevents.MessageEvent)
			if g.User != w.User || g.Text != w.Text || g.Channel != w.Channel || g.ChannelType != w.ChannelType || g.BotID != w.BotID || g.SubType != w.SubType {
				t.Fatalf("message %+v, want %+v", g, w)
			}
		case *slackevents.AppMentionEvent:
			g := got.InnerEvent.Data.(*slackevents.AppMentionEvent)
			if !reflect.DeepEqual([]string{g.User, g.Text, g.Channel, g.BotID}, []string{w.User, w.Text, w.Channel, w.BotID}) {
				t.Fatalf("mention %+v, want %+v", g, w)
			}
		default:
			t.Fatalf("inner event %T", w)
		}
	}
}

// floorEngine answers every turn with a reply that must wait for a floor.
type floorEngine struct {
	Engine
	floor time.Duration
}

func (f floorEngine) Run(ctx context.Context, t engine.Turn) engine.Reply {
	r := f.Engine.Handle(ctx, t)
	r.NotBefore = time.Now().Add(f.floor)
	return r
}

// A timing floor delays the reply, not the worker: the worker is done with
// the turn at once, and the reply is posted when the floor has passed.
func TestFloorDelaysTheReplyNotTheWorker(t *testing.T) {
	e := newEnv(t, false)
	const floor = 400 * time.Millisecond
	e.b.o.Engine = floorEngine{Engine: e.spy, floor: floor}
	n := e.f.postCount()
	started := time.Now()
	acked := make(chan int, 1)
	go func() { acked <- e.tr.event(t, messageEvent("EvFloor", "U1", "DU1", "reset")) }()
	waitFor(t, "turn", func() bool { return e.b.pool.Stats().Done > 0 })
	workerDone := time.Since(started)
	// Had the worker waited out the floor, it would have posted before
	// counting the job done.
	if got := e.f.postCount(); got != n {
		t.Fatalf("posted before the floor (worker done after %v)", workerDone)
	}
	// Slack is acknowledged once the reply is posted (the floor fits in the
	// ack budget), so a crash cannot lose an acknowledged event.
	if code := <-acked; code != 200 {
		t.Fatalf("event: %d", code)
	}
	if e.f.postCount() <= n {
		t.Fatal("acknowledged before the reply was posted")
	}
	if took := time.Since(started); took < floor {
		t.Fatalf("reply after %v, floor %v", took, floor)
	}
}
