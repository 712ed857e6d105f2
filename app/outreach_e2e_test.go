package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/handoff/escalate"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/outreach/lockout"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/plugins"
)

// lockedDir reports one locked account and says every account is locked.
type lockedDir struct{ directory.Directory }

func (lockedDir) Lockouts(context.Context, directory.LockoutQuery) (directory.LockoutRead, error) {
	return directory.LockoutRead{Cursor: "c", Entries: 1, Lockouts: []directory.Lockout{{
		User: directory.User{ID: "uid=alice", Login: "alice", Email: "alice@corp.example"}, At: time.Now().Add(-time.Minute)}}}, nil
}
func (lockedDir) Status(context.Context, directory.User) (directory.Status, error) {
	return directory.Status{Locked: true}, nil
}
func (lockedDir) ResetPassword(context.Context, directory.User, secret.String, directory.ResetOptions) error {
	return nil
}

type recordingChat struct {
	mu      sync.Mutex
	notices []outreach.Notice
}

func (c *recordingChat) Channel() string { return "slack" }
func (c *recordingChat) Resolve(context.Context, directory.User) (outreach.Recipient, error) {
	return outreach.Recipient{Channel: "slack", User: "T1:U1"}, nil
}
func (c *recordingChat) Send(_ context.Context, _ outreach.Recipient, n outreach.Notice) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notices = append(c.notices, n)
	return nil
}

// TestOutreachNotMeRaisesAlarm: "Not me" on a lockout notice goes through
// the app's audit pipeline to the not_me alarm rule and reaches the
// security channel (alarms.destinations) once, with the account as subject.
func TestOutreachNotMeRaisesAlarm(t *testing.T) {
	cfg := config.Default(plugins.All())
	cfg.Outreach.Lockout.Enabled = true
	cfg.Alarms.Destinations = []config.ChatDestination{{Channel: "slack", Target: "CSEC"}}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	if a.Outreach == nil {
		t.Fatal("outreach.lockout.enabled built no Outreach")
	}
	posted := make(chan string, 4)
	a.Posters.Set("slack", func(target string) escalate.Poster {
		return escalate.PosterFunc(func(_ context.Context, text string) error {
			posted <- target + " " + text
			return nil
		})
	})
	keys, _ := outreach.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	chat := &recordingChat{}
	w, err := lockout.New(lockout.Options{Directory: "corp", Source: lockedDir{}, Dir: lockedDir{}, Store: a.Store,
		Keys: keys, Messengers: []outreach.DirectMessenger{chat}, Audit: a.Audit})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Poll(context.Background()); err != nil || len(chat.notices) != 1 {
		t.Fatalf("poll: %v, %d notices", err, len(chat.notices))
	}
	rep, err := a.Outreach.Answers().Answer(context.Background(), chat.notices[0].Ref, outreach.ActionNotMe,
		outreach.Recipient{Channel: "slack", User: "T1:U1"})
	if err != nil || rep.MessageID != "outreach.not_me_done" {
		t.Fatalf("answer %+v, %v", rep, err)
	}
	if err := a.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-posted:
		if !strings.HasPrefix(p, "CSEC ") || !strings.Contains(p, "("+alarm.RuleNotMe+")") ||
			!strings.Contains(p, "corp:uid=alice") {
			t.Fatalf("security channel got %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no alert in the security channel")
	}
	select {
	case p := <-posted:
		t.Fatalf("a second alert: %q", p)
	case <-time.After(200 * time.Millisecond):
	}
}
