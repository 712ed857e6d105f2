package handoff_test

import (
	"context"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/secret"
)

// TestReadback: a verify handoff becomes verified only when the agent enters
// the number the person was shown; wrong numbers count, and the third fails
// the handoff. The number never reaches the record, a log or the audit.
func TestReadback(t *testing.T) {
	ctx := context.Background()
	const shown = "482913"
	t.Run("match verifies, once", func(t *testing.T) {
		f := newFixture(t, handoff.Options{})
		f.codes = append(f.codes, shown)
		h := f.create(t)
		if res, err := f.s.ConfirmReadback(ctx, h.ID, secret.New(shown)); err != nil || res != handoff.ReadbackWrong {
			t.Fatalf("before anything was shown: %v %v", res, err)
		}
		if err := f.s.AwaitReadback(ctx, h.ID, secret.New(shown)); err != nil {
			t.Fatal(err)
		}
		if res, _ := f.s.ConfirmReadback(ctx, h.ID, secret.New("000000")); res != handoff.ReadbackWrong {
			t.Fatalf("wrong number: %v", res)
		}
		if got, _ := f.s.Get(ctx, h.ID); got.Status == handoff.StatusVerified || got.Status.Terminal() {
			t.Fatalf("status %s before the read-back", got.Status)
		}
		if res, err := f.s.ConfirmReadback(ctx, h.ID, secret.New("482 913")); err != nil || res != handoff.ReadbackVerified {
			t.Fatalf("read-back: %v %v", res, err)
		}
		got, _ := f.s.Get(ctx, h.ID)
		var statuses []string
		for _, e := range got.Events {
			statuses = append(statuses, string(e.Status))
		}
		if got.Status != handoff.StatusDone || !strings.Contains(strings.Join(statuses, ","), "verified,done") {
			t.Fatalf("status %s events %v", got.Status, statuses)
		}
		if _, err := f.s.ConfirmReadback(ctx, h.ID, secret.New(shown)); err == nil {
			t.Fatal("a finished handoff took another read-back")
		}
		rec, err := f.mem.Get(ctx, "handoff:"+h.ID)
		if err != nil || strings.Contains(string(rec.Value), shown) {
			t.Fatalf("the number is in the record (%v)", err)
		}
	})
	t.Run("three wrong fail", func(t *testing.T) {
		f := newFixture(t, handoff.Options{})
		h := f.create(t)
		if err := f.s.AwaitReadback(ctx, h.ID, secret.New(shown)); err != nil {
			t.Fatal(err)
		}
		var res handoff.ReadbackResult
		for range handoff.MaxReadbackTries {
			res, _ = f.s.ConfirmReadback(ctx, h.ID, secret.New("111111"))
		}
		got, _ := f.s.Get(ctx, h.ID)
		if res != handoff.ReadbackFailed || got.Status != handoff.StatusFailed || got.Reason != "readback_mismatch" {
			t.Fatalf("after %d wrong: %v %s %s", handoff.MaxReadbackTries, res, got.Status, got.Reason)
		}
	})
}
