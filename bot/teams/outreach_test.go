package teams

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/outreach"
)

type spyAnswerer struct {
	mu    sync.Mutex
	calls []string
}

func (s *spyAnswerer) Answer(_ context.Context, ref, action string, who outreach.Recipient) (outreach.Reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, ref+" "+action+" "+who.User)
	if action == outreach.ActionNotMe {
		return outreach.Reply{MessageID: "outreach.not_me_done", Ref: "REF1",
			Actions: []outreach.Action{{ID: outreach.ActionReset, MessageID: "outreach.reset"}}}, nil
	}
	return outreach.Reply{Flow: action}, nil
}

func (s *spyAnswerer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// noticeButton returns the rb_out token of the card action titled title.
func noticeButton(t *testing.T, card map[string]any, title string) string {
	t.Helper()
	for _, e := range list(card["actions"]) {
		m, _ := e.(map[string]any)
		data, _ := m["data"].(map[string]any)
		if m["title"] == title {
			return fmt.Sprint(data[outreachKey])
		}
	}
	t.Fatalf("no button %q on %v", title, card)
	return ""
}

// TestOutreachNotice: a person the bot never met is unmapped (Teams has no
// lookup by email without Graph); once they wrote to the bot, the notice
// reaches their personal chat, Unlock starts the unlock flow, a copied
// button is refused for someone else, Not me answers with a reset offer.
func TestOutreachNotice(t *testing.T) {
	r := newRig(t)
	ans := &spyAnswerer{}
	m := r.bot.Outreach(ans)
	ctx := context.Background()
	alice := directory.User{Email: "alice.martin@demo.example"}
	if _, err := m.Resolve(ctx, alice); !errors.Is(err, outreach.ErrUnmapped) {
		t.Fatalf("Resolve before any contact = %v, want ErrUnmapped", err)
	}
	r.say("amartin", "hello")
	rc, err := m.Resolve(ctx, alice)
	if err != nil || rc.User != "aad-amartin" || rc.Address == "" {
		t.Fatalf("Resolve after contact = %+v, %v", rc, err)
	}
	n := len(r.writes())
	err = m.Send(ctx, rc, outreach.Notice{Ref: "ref1", MessageID: "outreach.lockout", Locale: "en",
		Args: map[string]string{"when": "2026-12-07 07:12 CET"},
		Actions: []outreach.Action{{ID: outreach.ActionUnlock, MessageID: "outreach.unlock"},
			{ID: outreach.ActionNotMe, MessageID: "outreach.not_me", Danger: true}}})
	if err != nil || len(r.writes()) != n+1 {
		t.Fatalf("Send = %v, %d writes", err, len(r.writes())-n)
	}
	card, id := r.shown()
	if !strings.Contains(texts(card), "07:12 CET") {
		t.Fatalf("notice card %v", texts(card))
	}
	msg := func(id string) string { return r.a.Messages.Text("en", id, false, nil) }
	unlock, notMe := noticeButton(t, card, msg("outreach.unlock")), noticeButton(t, card, msg("outreach.not_me"))
	r.submit("bob", id, map[string]any{outreachKey: notMe})
	if len(ans.seen()) != 0 {
		t.Fatalf("another user's click reached the answerer: %v", ans.seen())
	}
	r.submit("amartin", id, map[string]any{outreachKey: unlock})
	if got := ans.seen(); len(got) != 1 || got[0] != "ref1 unlock aad-amartin" {
		t.Fatalf("answers %v", got)
	}
	unlocking := r.a.Messages.Text("en", "identify.as.unlock", false, map[string]string{"login": "amartin"})
	if c, _ := r.shown(); !strings.Contains(texts(c), unlocking) {
		t.Fatalf("Unlock did not start the unlock flow: %q", texts(c))
	}
	r.submit("amartin", id, map[string]any{outreachKey: notMe})
	c, _ := r.shown()
	if !strings.Contains(texts(c), r.a.Messages.Text("en", "outreach.not_me_done", false, map[string]string{"ref": "REF1"})) {
		t.Fatalf("Not me reply %q", texts(c))
	}
	noticeButton(t, c, msg("outreach.reset"))
}
