package report_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/report"
	"github.com/resetbot/resetbot/core/store/memory"
)

type chatPosts struct {
	mu    sync.Mutex
	texts []string
	fail  bool
}

func (c *chatPosts) Post(_ context.Context, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("channel unreachable")
	}
	c.texts = append(c.texts, text)
	return nil
}

// TestMonthlyOncePerMonth drives two replicas with a fake clock through two
// months, hour by hour: last month's report is posted exactly once a month,
// at the configured day and hour, by one replica; a failed post is retried
// at the next tick.
func TestMonthlyOncePerMonth(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	st := memory.New(memory.WithClock(func() time.Time { return now }))
	agg := report.NewAggregator()
	seed(t, agg) // November, from since (Nov 5) on
	if _, err := report.SaveDays(ctx, st, agg.Drain()); err != nil {
		t.Fatal(err)
	}
	posts := &chatPosts{}
	replicas := []*report.Monthly{
		{KV: st, Poster: posts, Day: 1, Hour: 9, Options: report.Options{CostPerTicket: 22.5, Currency: "USD"}},
		{KV: st, Poster: posts, Day: 1, Hour: 9, Options: report.Options{CostPerTicket: 22.5, Currency: "USD"}},
	}
	posted := map[string]time.Time{}
	for ; now.Before(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)); now = now.Add(time.Hour) {
		// The channel is down for the first hour it is due in December.
		posts.mu.Lock()
		posts.fail = now.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		posts.mu.Unlock()
		for _, m := range replicas {
			ok, err := m.Tick(ctx, now)
			if err != nil && !posts.fail {
				t.Fatalf("%s: %v", now, err)
			}
			if ok {
				if _, dup := posted[now.Format("2006-01")]; dup {
					t.Fatalf("posted twice in %s", now.Format("2006-01"))
				}
				posted[now.Format("2006-01")] = now
			}
		}
	}
	want := map[string]time.Time{
		"2026-12": time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), // 9:00 failed, retried at 10:00
		"2027-01": time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC),
	}
	if len(posted) != 2 || !posted["2026-12"].Equal(want["2026-12"]) || !posted["2027-01"].Equal(want["2027-01"]) {
		t.Fatalf("posted %v, want %v", posted, want)
	}
	if len(posts.texts) != 2 {
		t.Fatalf("%d posts", len(posts.texts))
	}
	nov := posts.texts[0]
	for _, s := range []string{"Monthly resetbot report, November 2026", "2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z",
		"Resets and unlocks completed 13", "292.50 USD", "75.0% (3 👍, 1 👎)"} {
		if !strings.Contains(squash(nov), s) {
			t.Errorf("November post lacks %q:\n%s", s, nov)
		}
	}
	if !strings.Contains(posts.texts[1], "December 2026") || !strings.Contains(squash(posts.texts[1]), "Resets and unlocks completed 0") {
		t.Errorf("December post:\n%s", posts.texts[1])
	}
	t.Logf("\n%s", nov)
}

// squash folds the text's column padding to single spaces.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }
