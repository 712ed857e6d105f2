package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// KV is the part of store.Store the report keeps its records in.
type KV interface {
	Get(ctx context.Context, key string) (store.Record, error)
	CompareAndSwap(ctx context.Context, key string, expect uint64, value []byte, ttl time.Duration) (uint64, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) (uint64, error)
	Delete(ctx context.Context, key string) error
}

// Retention is how long the store keeps a day's aggregate (and the adoption
// count): a year and a month, enough for a year-on-year report.
const Retention = 400 * 24 * time.Hour

// MaxDays bounds the days LoadDays reads.
const MaxDays = 400

func dayKey(date string) string { return "report:day:" + date }

// adoptionKey holds the latest Adoption count.
const adoptionKey = "report:adoption"

// casTries bounds the compare-and-swap retries of one merge: replicas flush
// about once a minute, so a conflict is rare and a second try wins.
const casTries = 8

// SaveDays merges each day into its stored aggregate (compare-and-swap, so
// replicas flushing at once add up). On error the days not saved are
// returned so the caller can put them back.
func SaveDays(ctx context.Context, kv KV, days []Day) ([]Day, error) {
	for i, d := range days {
		if err := mergeDay(ctx, kv, d); err != nil {
			return days[i:], err
		}
	}
	return nil, nil
}

func mergeDay(ctx context.Context, kv KV, d Day) error {
	for range casTries {
		var cur Day
		rec, err := kv.Get(ctx, dayKey(d.Date))
		switch {
		case errors.Is(err, store.ErrNotFound):
			rec = store.Record{}
		case err != nil:
			return fmt.Errorf("report: read day %s: %w", d.Date, err)
		default:
			if err := json.Unmarshal(rec.Value, &cur); err != nil {
				return fmt.Errorf("report: decode day %s: %w", d.Date, err)
			}
		}
		cur.Merge(d)
		cur.Date = d.Date
		b, err := json.Marshal(cur)
		if err != nil {
			return fmt.Errorf("report: encode day: %w", err)
		}
		_, err = kv.CompareAndSwap(ctx, dayKey(d.Date), rec.Version, b, Retention)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("report: write day %s: %w", d.Date, err)
		}
		return nil
	}
	return fmt.Errorf("report: write day %s: %w", d.Date, store.ErrConflict)
}

// LoadDays reads the stored days from since to until (zero: now, given by
// now), at most MaxDays, oldest first. Missing days count nothing.
func LoadDays(ctx context.Context, kv KV, since, until time.Time) ([]Day, error) {
	var out []Day
	first := since.UTC().Truncate(24 * time.Hour)
	for i := 0; i < MaxDays; i++ {
		t := first.Add(time.Duration(i) * 24 * time.Hour)
		if !t.Before(until) {
			break
		}
		rec, err := kv.Get(ctx, dayKey(DateOf(t)))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("report: read day %s: %w", DateOf(t), err)
		}
		var d Day
		if err := json.Unmarshal(rec.Value, &d); err != nil {
			return nil, fmt.Errorf("report: decode day %s: %w", DateOf(t), err)
		}
		out = append(out, d)
	}
	return out, nil
}

// FromStore computes the report for the period from the stored days and
// the latest adoption count. A zero Until means now.
func FromStore(ctx context.Context, kv KV, o Options, now time.Time) (Report, error) {
	until := o.Until
	if until.IsZero() {
		until = now
	}
	days, err := LoadDays(ctx, kv, o.Since, until)
	if err != nil {
		return Report{}, err
	}
	rep := Summarize(days, o)
	ad, err := LoadAdoption(ctx, kv)
	if err != nil {
		return Report{}, err
	}
	rep.Adoption = ad
	return rep, nil
}

// Adoption is a count of the users in scope (from the directory) and of
// those with a factor enrolled (from the enrollment records).
type Adoption struct {
	InScope  int     `json:"users_in_scope"`
	Enrolled int     `json:"users_enrolled"`
	Ratio    float64 `json:"ratio"`
	// Truncated is true when the count stopped at its bound: InScope is
	// then a lower bound.
	Truncated bool      `json:"truncated,omitempty"`
	At        time.Time `json:"counted_at"`
}

// SaveAdoption stores the latest adoption count.
func SaveAdoption(ctx context.Context, kv KV, a Adoption) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("report: encode adoption: %w", err)
	}
	if _, err := kv.Set(ctx, adoptionKey, b, Retention); err != nil {
		return fmt.Errorf("report: write adoption: %w", err)
	}
	return nil
}

// LoadAdoption returns the latest adoption count, nil when none was made.
func LoadAdoption(ctx context.Context, kv KV) (*Adoption, error) {
	rec, err := kv.Get(ctx, adoptionKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("report: read adoption: %w", err)
	}
	var a Adoption
	if err := json.Unmarshal(rec.Value, &a); err != nil {
		return nil, fmt.Errorf("report: decode adoption: %w", err)
	}
	return &a, nil
}
