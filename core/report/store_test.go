package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/report"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/memory"
)

// splitSink sends events alternately to two aggregators, as two replicas
// would see a share each.
type splitSink struct {
	a, b *report.Aggregator
	n    int
}

func (s *splitSink) Write(ctx context.Context, e audit.Event) error {
	s.n++
	if s.n%2 == 0 {
		return s.a.Write(ctx, e)
	}
	return s.b.Write(ctx, e)
}

// TestStoreReport seeds the store through the same path the service uses
// (two replicas' aggregators, flushed twice with compare-and-swap merges)
// and checks every figure of the report read back from the store.
func TestStoreReport(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	one, two := report.NewAggregator(), report.NewAggregator()
	// Flow ends carry the engine's seconds field, so either replica times
	// a reset whichever replica saw its start.
	seed(t, secondsFilled{&splitSink{a: one, b: two}})
	for _, agg := range []*report.Aggregator{one, two, one} {
		if left, err := report.SaveDays(ctx, st, agg.Drain()); err != nil || left != nil {
			t.Fatal(left, err)
		}
	}
	counted := since.Add(72 * time.Hour)
	if err := report.SaveAdoption(ctx, st, report.Adoption{InScope: 40, Enrolled: 30, Ratio: 0.75, At: counted}); err != nil {
		t.Fatal(err)
	}
	now := since.Add(30 * 24 * time.Hour)
	rep, err := report.FromStore(ctx, st, report.Options{Since: since, CostPerTicket: 22.5, Currency: "USD"}, now)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("completed=%d median=%v p90=%v timed=%d esc=%d defl=%.4f saving=%.2f abandoned=%d enroll=%d served=%d up=%d down=%d share=%.2f",
		rep.Completed, rep.TimeToReset.MedianSeconds, rep.TimeToReset.P90Seconds, rep.TimeToReset.Count, rep.Escalations,
		rep.Deflection, rep.Saving, rep.Abandoned, rep.Enrollments, rep.UsersServed, rep.Satisfaction.Up, rep.Satisfaction.Down, rep.Satisfaction.Share)
	want := "completed=13 median=300 p90=540 timed=10 esc=2 defl=0.8667 saving=292.50 abandoned=2 enroll=2 served=-1 up=3 down=1 share=0.75"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if fmt.Sprint(rep.Completions) != "[{enroll slack 2} {reset slack 10} {unlock voice 3}]" || rep.Started["reset"] != 13 {
		t.Errorf("completions %v started %v", rep.Completions, rep.Started)
	}
	if rep.Adoption == nil || rep.Adoption.InScope != 40 || rep.Adoption.Enrolled != 30 {
		t.Fatalf("adoption %+v", rep.Adoption)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"from the store", "75.0% (30 of 40", "median 5m0s, p90 9m0s", "86.7%", "292.50 USD"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, text.String())
		}
	}
	if strings.Contains(text.String(), "Users served") {
		t.Error("the store names no account: no users served line")
	}
	b, _ := json.Marshal(rep)
	if !strings.Contains(string(b), `"users_in_scope":40`) || !strings.Contains(string(b), `"source":"store"`) {
		t.Errorf("json %s", b)
	}
	// The aggregate of a day is compact and expires.
	rec, err := st.Get(ctx, "report:day:"+report.DateOf(since.Add(24*time.Hour)))
	if err != nil || len(rec.Value) > 2000 {
		t.Fatalf("day record %d bytes, %v", len(rec.Value), err)
	}
	if ttl, err := st.TTL(ctx, "report:day:"+report.DateOf(since.Add(24*time.Hour))); err != nil || ttl <= 0 || ttl > report.Retention {
		t.Fatalf("ttl %v %v", ttl, err)
	}
	t.Logf("\n%s", text.String())
}

// secondsFilled adds the engine's seconds field to flow.end events, from
// the flow.start it saw.
type secondsFilled struct{ next audit.Sink }

var starts = map[string]time.Time{}

func (s secondsFilled) Write(ctx context.Context, e audit.Event) error {
	switch e.Name {
	case "flow.start":
		starts[e.Session] = e.Time
	case "flow.end":
		e.Fields = map[string]string{report.SecondsField: fmt.Sprint(int(e.Time.Sub(starts[e.Session]).Seconds()))}
	}
	return s.next.Write(ctx, e)
}

// TestSaveDaysConflict proves concurrent merges add up: a stale version is
// retried, never overwritten.
func TestSaveDaysConflict(t *testing.T) {
	ctx := context.Background()
	st := racing{Store: memory.New()}
	d := report.Day{Date: "2026-11-06", Abandoned: 1}
	for range 3 {
		if _, err := report.SaveDays(ctx, &st, []report.Day{d}); err != nil {
			t.Fatal(err)
		}
	}
	days, err := report.LoadDays(ctx, st.Store, since, since.Add(5*24*time.Hour))
	if err != nil || len(days) != 1 || days[0].Abandoned != 3+st.injected {
		t.Fatalf("%+v %v (injected %d)", days, err, st.injected)
	}
}

// racing writes one extra merge between a read and the next CAS, once per
// key version, as another replica would.
type racing struct {
	*memory.Store
	injected int
}

func (r *racing) CompareAndSwap(ctx context.Context, key string, expect uint64, value []byte, ttl time.Duration) (uint64, error) {
	if r.injected < 2 {
		r.injected++
		if _, err := report.SaveDays(ctx, r.Store, []report.Day{{Date: "2026-11-06", Abandoned: 1}}); err != nil {
			return 0, err
		}
	}
	return r.Store.CompareAndSwap(ctx, key, expect, value, ttl)
}

var _ report.KV = (*racing)(nil)
var _ store.Store = (*memory.Store)(nil)
