package slack

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/outreach"
)

// spyAnswerer records clicks and answers like the lockout Answerer.
type spyAnswerer struct {
	mu    sync.Mutex
	calls []string
}

func (s *spyAnswerer) Answer(_ context.Context, ref, action string, who outreach.Recipient) (outreach.Reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, ref+" "+action+" "+who.Channel+" "+who.User)
	switch action {
	case outreach.ActionUnlock, outreach.ActionReset:
		return outreach.Reply{Flow: action}, nil
	case outreach.ActionNotMe:
		return outreach.Reply{MessageID: "outreach.not_me_done", Ref: "REF1",
			Actions: []outreach.Action{{ID: outreach.ActionReset, MessageID: "outreach.reset"}}}, nil
	}
	return outreach.Reply{MessageID: "outreach.expired"}, nil
}

func (s *spyAnswerer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// TestOutreachNotice resolves a directory user by email, sends the lockout
// notice in the DM, and follows its buttons: Unlock starts the unlock flow
// (which asks who the user is, as always), Not me answers and offers a
// reset, and a button presented by someone else is refused.
func TestOutreachNotice(t *testing.T) {
	e := newEnv(t, false)
	e.f.setUser("U2", fakeUser{Email: "chiara.rossi@demo.example", Locale: "en-US", Team: testTeam})
	ans := &spyAnswerer{}
	m := e.b.Outreach(ans)
	ctx := context.Background()
	for _, u := range []directory.User{{Email: "nobody@demo.example"}, {Email: "guest@other.example"}, {}} {
		if _, err := m.Resolve(ctx, u); !errors.Is(err, outreach.ErrUnmapped) {
			t.Fatalf("Resolve(%q) = %v, want ErrUnmapped", u.Email, err)
		}
	}
	r, err := m.Resolve(ctx, directory.User{Email: "Chiara.Rossi@demo.example"})
	if err != nil || r.User != testTeam+":U2" || r.Channel != Channel {
		t.Fatalf("Resolve = %+v, %v", r, err)
	}
	n := e.f.postCount()
	err = m.Send(ctx, r, outreach.Notice{Ref: "ref1", Kind: "lockout", MessageID: "outreach.lockout", Locale: "en",
		Args: map[string]string{"when": "2026-12-07 07:12 CET"},
		Actions: []outreach.Action{{ID: outreach.ActionUnlock, MessageID: "outreach.unlock"},
			{ID: outreach.ActionNotMe, MessageID: "outreach.not_me", Danger: true}}})
	if err != nil {
		t.Fatal(err)
	}
	notice := e.f.postsSince(n)
	if len(notice) != 1 || notice[0].Channel != "DU2" || !strings.Contains(notice[0].Text, "07:12 CET") {
		t.Fatalf("notice posts = %+v", notice)
	}
	// Someone else clicking a copy of the button: refused before the Answerer.
	stolen := e.find(notice, e.msg("outreach.not_me"))
	e.tr.interact(t, actionPayload("U3", e.next("trg-"), stolen))
	if len(ans.seen()) != 0 {
		t.Fatalf("a click by another user reached the answerer: %v", ans.seen())
	}
	posts := e.click("U2", e.find(notice, e.msg("outreach.unlock")))
	if got := ans.seen(); len(got) != 1 || got[0] != "ref1 unlock slack "+testTeam+":U2" {
		t.Fatalf("answers = %v", got)
	}
	// The unlock flow starts and verifies as always (the Slack email only
	// pre-selects the account).
	as := func(flow string) string {
		return e.a.Messages.Text("en", "identify.as."+flow, false, map[string]string{"login": "crossi"})
	}
	if !strings.Contains(texts(posts), as("unlock")) {
		t.Fatalf("Unlock did not start the unlock flow: %q", texts(posts))
	}
	posts = e.click("U2", e.find(notice, e.msg("outreach.not_me")))
	done := e.a.Messages.Text("en", "outreach.not_me_done", false, map[string]string{"ref": "REF1"})
	if !strings.Contains(texts(posts), done) {
		t.Fatalf("Not me reply = %q", texts(posts))
	}
	posts = e.click("U2", e.find(posts, e.msg("outreach.reset")))
	if got := ans.seen(); len(got) != 3 || !strings.Contains(got[2], " reset ") {
		t.Fatalf("answers = %v", got)
	}
	if !strings.Contains(texts(posts), as("reset")) {
		t.Fatalf("Reset did not start the reset flow: %q", texts(posts))
	}
}
