package app

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/escalate"
	"github.com/resetbot/resetbot/plugins"
)

// fakeChannel is a channel with every chat capability, recording what
// reached it. helpDesk says whether it has a help-desk target.
type fakeChannel struct {
	name     string
	helpDesk bool

	mu      sync.Mutex
	started []string // handoff IDs
	changes []handoff.Status
	posts   []string // "target: text"
}

func (f *fakeChannel) Name() string                        { return f.name }
func (f *fakeChannel) Routes() map[string]http.Handler     { return nil }
func (f *fakeChannel) Start(context.Context) error         { return nil }
func (f *fakeChannel) Shutdown(context.Context) error      { return nil }
func (f *fakeChannel) PostTo(target string) channel.Poster { return f.poster(target) }

func (f *fakeChannel) StartHandoff(_ context.Context, h handoff.Handoff) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, h.ID)
	return nil
}

func (f *fakeChannel) HandoffChanged(_ context.Context, h handoff.Handoff) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, h.Status)
}

func (f *fakeChannel) HelpDesk() (channel.Poster, bool) { return f.poster("helpdesk"), f.helpDesk }

func (f *fakeChannel) poster(target string) channel.Poster {
	return escalate.PosterFunc(func(_ context.Context, text string) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.posts = append(f.posts, target+": "+text)
		return nil
	})
}

// plainChannel has no capability.
type plainChannel struct{}

func (plainChannel) Name() string                    { return "plain" }
func (plainChannel) Routes() map[string]http.Handler { return nil }
func (plainChannel) Start(context.Context) error     { return nil }
func (plainChannel) Shutdown(context.Context) error  { return nil }

// TestAddChannel: the handoff channels, help-desk posters, chat posters,
// handoff watchers and metric labels come from the channels added, by the
// capabilities each has; core names none of them.
func TestAddChannel(t *testing.T) {
	cfg, probs := config.Parse([]byte("mode: demo\nstore: {type: memory}\ndirectories: [{name: demo, type: memory}]\n"+
		"notify: {outbox: true, sms: {provider: outbox}}\n"), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	cfg.Audit.File = ""
	a, err := Build(context.Background(), cfg, Options{Floor: -1, Metrics: prometheus.NewRegistry(), Audit: &audit.Recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	desk, quiet := &fakeChannel{name: "mattertest", helpDesk: true}, &fakeChannel{name: "quiet"}
	if slices.Contains(a.Handoffs.Channels(), desk.name) {
		t.Fatal("a handoff channel before any channel was added")
	}
	a.AddChannel(desk)
	a.AddChannel(plainChannel{})
	a.AddChannel(quiet)
	if got := a.Handoffs.Channels(); !slices.Equal(got[:2], []string{"mattertest", "quiet"}) || slices.Contains(got, "plain") {
		t.Errorf("handoff channels %v, want mattertest, quiet (registration order), not plain", got)
	}

	h, err := a.Handoffs.Store.Start(ctx, handoff.Handoff{Action: handoff.ActionReset, User: "alice.martin@demo.example",
		Channel: desk.name, Requester: "agent:test"}, a.Handoffs)
	if err != nil || h.Status != handoff.StatusStarted {
		t.Fatalf("handoff on an added channel: %v, status %s", err, h.Status)
	}
	if err := a.Posters.To(config.ChatDestination{Channel: "quiet", Target: "C1"}).Post(ctx, "alarm"); err != nil {
		t.Fatal(err)
	}
	if err := a.Posters.To(config.ChatDestination{Channel: "plain", Target: "C1"}).Post(ctx, "alarm"); err == nil {
		t.Error("posted through a channel without a chat poster")
	}
	if err := a.Handoffs.esc.Escalate(ctx, escalate.Packet{Ref: "R-1", Reason: "asked_for_agent", Channel: "quiet"}); err != nil {
		t.Fatal(err)
	}
	a.Handoffs.esc.Close() // drains the posts
	a.auditMetrics.chMu.RLock()
	labelled := a.auditMetrics.channels["mattertest"] && a.auditMetrics.channels["plain"]
	a.auditMetrics.chMu.RUnlock()
	if !labelled {
		t.Error("an added channel is no metric label")
	}

	desk.mu.Lock()
	defer desk.mu.Unlock()
	quiet.mu.Lock()
	defer quiet.mu.Unlock()
	if !slices.Equal(desk.started, []string{h.ID}) || len(quiet.started) != 0 {
		t.Errorf("handoff started on mattertest %v, quiet %v", desk.started, quiet.started)
	}
	// Every watcher hears of every change (pending -> started at least).
	if !slices.Contains(desk.changes, handoff.StatusStarted) || !slices.Contains(quiet.changes, handoff.StatusStarted) {
		t.Errorf("watchers told %v and %v", desk.changes, quiet.changes)
	}
	if len(desk.posts) != 1 || desk.posts[0][:len("helpdesk: ")] != "helpdesk: " {
		t.Errorf("mattertest posts %q, want one escalation to its help desk", desk.posts)
	}
	if !slices.Equal(quiet.posts, []string{"C1: alarm"}) {
		t.Errorf("quiet posts %q, want only the alarm (no help-desk target)", quiet.posts)
	}
}
