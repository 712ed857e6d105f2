package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// Poster posts plain text into a chat channel (escalate.Poster).
type Poster interface {
	Post(ctx context.Context, text string) error
}

// Monthly posts last month's report to a chat channel once a month, from
// whichever replica gets there first: the first to create the month's key
// in the shared store posts; the others see the key and do nothing. Call
// Tick periodically (hourly is plenty).
type Monthly struct {
	KV     KV
	Poster Poster
	// Day (1-28) and Hour (UTC) say when in the month to post; if every
	// replica was down then, the first tick within CatchUp after posts.
	Day, Hour int
	// Options price the report (Since and Until are set per month).
	Options Options
}

// CatchUp is how late a monthly post may still go out; a service started
// later in the month waits for the next one (no stale summary).
const CatchUp = 7 * 24 * time.Hour

// monthlyKey is the once-per-month dedupe key of the report for month.
func monthlyKey(month time.Time) string { return "report:monthly:" + month.Format("2006-01") }

// Tick posts last month's report if it is time and no replica posted it
// yet. It returns whether this call posted. A failed post releases the
// month's key so a later tick tries again.
func (m *Monthly) Tick(ctx context.Context, now time.Time) (bool, error) {
	now = now.UTC()
	this := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	due := time.Date(now.Year(), now.Month(), m.Day, m.Hour, 0, 0, 0, time.UTC)
	if now.Before(due) || now.Sub(due) > CatchUp {
		return false, nil
	}
	last := this.AddDate(0, -1, 0)
	key := monthlyKey(last)
	// The key outlives the month, so a restart late in the month never
	// posts again.
	if _, err := m.KV.CompareAndSwap(ctx, key, 0, []byte(now.Format(time.RFC3339)), 40*24*time.Hour); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return false, nil
		}
		return false, fmt.Errorf("report: monthly claim: %w", err)
	}
	o := m.Options
	o.Since, o.Until = last, this
	rep, err := FromStore(ctx, m.KV, o, now)
	if err == nil {
		var b bytes.Buffer
		b.WriteString("Monthly resetbot report, " + last.Format("January 2006") + "\n")
		if err = rep.WriteText(&b); err == nil {
			err = m.Poster.Post(ctx, b.String())
		}
	}
	if err != nil {
		// The key is ours (created above; nobody else can create it while
		// it exists), so deleting it releases only our claim.
		_ = m.KV.Delete(ctx, key)
		return false, fmt.Errorf("report: monthly post: %w", err)
	}
	return true, nil
}
