package mattermost

import (
	"context"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/handoff"
)

// TestHandoff: a help-desk handoff naming a person by e-mail (or by login,
// through the account's e-mail of record) reaches them in a DM with an
// introduction and the flow's first prompt; the reset goes on as any
// other and the handoff ends done. A person without a usable Mattermost
// account makes the handoff fail, with a reason code only.
func TestHandoff(t *testing.T) {
	e := newEnv(t)
	e.a.AddChannel(e.b) // as the composition root does: registers the starter
	start := func(who string) handoff.Handoff {
		t.Helper()
		var h handoff.Handoff
		e.step(1, func() {
			var err error
			h, err = e.a.Handoffs.Store.Start(context.Background(), handoff.Handoff{Action: "reset", User: who,
				Channel: Name, Requester: "apikey:test"}, handoff.StarterFunc(e.b.StartHandoff))
			if err != nil || h.Status != handoff.StatusStarted {
				t.Fatalf("start %s: %+v %v", who, h, err)
			}
		})
		return h
	}
	n := e.f.postCount()
	h := start("alice.martin@demo.example")
	posts := e.f.botPosts(n)
	got := texts(posts)
	if !strings.Contains(got, e.msg(msgHandoffIntro)) || !strings.Contains(got, e.msg("totp.prompt")) ||
		posts[0].ChannelID != e.f.dmID(uAlice) {
		t.Fatalf("handoff DM: %q", got)
	}
	n = e.f.dialogCount()
	e.click(uAlice, posts, e.msg("factor.sms"))
	e.submit(n, map[string]string{fieldCode: e.lastCode()})
	last := e.f.botPosts(e.f.postCount() - 1)
	n = e.openDialog(uAlice, last, e.msg(msgButtonCode))
	_, posts = e.submit(n, map[string]string{fieldCode: e.lastCode()})
	n = e.openDialog(uAlice, posts, e.msg(msgButtonPassword))
	good := "Handed-Over-Horse-Battery-5"
	e.submit(n, map[string]string{fieldPassword: good, fieldConfirm: good})
	if h, err := e.a.Handoffs.Store.Get(context.Background(), h.ID); err != nil || h.Status != handoff.StatusDone {
		t.Fatalf("handoff after the reset: %+v %v", h, err)
	}
	// By login: the account's e-mail of record finds chiara.
	n = e.f.postCount()
	start("crossi")
	if p := e.f.botPosts(n); len(p) == 0 || p[0].ChannelID != e.f.dmID(uChiara) {
		t.Fatalf("login handoff posted %+v", p)
	}
	// Nobody in Mattermost with that e-mail, a guest: the handoff fails.
	for _, who := range []string{"nobody@demo.example", "guest@other.example"} {
		h, err := e.a.Handoffs.Store.Start(context.Background(), handoff.Handoff{Action: "reset", User: who,
			Channel: Name, Requester: "apikey:test"}, handoff.StarterFunc(e.b.StartHandoff))
		if err != nil || h.Status != handoff.StatusFailed || h.Reason != handoff.ReasonNotPossible {
			t.Fatalf("unreachable %s: %+v %v", who, h, err)
		}
	}
	e.assertNoLeak()
}
