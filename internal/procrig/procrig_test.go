package procrig_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
	"github.com/resetbot/resetbot/internal/procrig"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestServeOneTurnEach starts a production replica against real redis and
// slapd and runs one Slack turn and one voice turn through it.
func TestServeOneTurnEach(t *testing.T) {
	b := procrig.Backends{Redis: testserver.Redis(t), Slapd: testserver.Slapd(t), Slack: procrig.NewFakeSlack(t),
		Twilio: twiliotest.New(t)}
	s := procrig.StartServe(t, b, procrig.Options{})
	c := procrig.NewClient("http://"+s.Public, 1)
	wait := b.Slack.Expect("D1")
	if code, err := c.PostSlack(procrig.SlackEvent("Ev1", "U1", "D1", "hello"), 0); err != nil || code != http.StatusOK {
		t.Fatalf("slack event: %d %v\n%s", code, err, s.Logs())
	}
	select {
	case p := <-wait:
		t.Logf("slack reply: %q", p.Text)
	case <-time.After(10 * time.Second):
		t.Fatalf("no slack reply\n%s", s.Logs())
	}
	code, doc, err := c.PostTwilio("/voice/incoming", procrig.CallParams("CA1", ""))
	if err != nil || code != http.StatusOK {
		t.Fatalf("voice incoming: %d %v %s", code, err, doc)
	}
	act := procrig.TwiMLAction(doc)
	code, doc, err = c.PostTwilio(act, procrig.CallParams("CA1", "1"))
	if err != nil || code != http.StatusOK {
		t.Fatalf("voice language: %d %v %s", code, err, doc)
	}
	act2 := procrig.TwiMLAction(doc)
	code, doc, err = c.PostTwilio(act2, procrig.CallParams("CA1", "1"))
	t.Logf("actions %q %q; last %d %s", act, act2, code, doc)
	if code != http.StatusOK || procrig.TwiMLAction(doc) == "" {
		t.Fatalf("voice gather: %d %s", code, doc)
	}
}
