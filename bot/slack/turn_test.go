package slack

import (
	"reflect"
	"testing"

	"github.com/slack-go/slack/slackevents"
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
		if got.Type != want.Type || got.TeamID != want.TeamID {
			t.Fatalf("envelope %+v, want %+v", got, want)
		}
		if ch, ok := challenge(got); ok {
			if wch, _ := challenge(want); ch != wch {
				t.Fatalf("challenge %q, want %q", ch, wch)
			}
			continue
		}
		gcb, wcb := got.Data.(*slackevents.EventsAPICallbackEvent), want.Data.(*slackevents.EventsAPICallbackEvent)
		if gcb.EventID != wcb.EventID || gcb.TeamID != wcb.TeamID {
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
