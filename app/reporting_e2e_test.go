package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/report"
	"github.com/resetbot/resetbot/flows"
)

// TestReportFromTheStore: a full chat reset, a cancelled one and an
// authenticator enrollment reach the store's daily aggregates and the
// adoption count, and /metrics shows the same figures as gauges.
func TestReportFromTheStore(t *testing.T) {
	r, reg, _ := observedRig(t)
	ctx := context.Background()
	r.send("slack", "U9", start(flows.FlowReset))
	r.send("slack", "U9", choice("cancel"))
	done := r.chatReset("U1", "amartin", "Velvet-Harbor-Lantern-93")
	r.expect(done, "done", engine.MsgRateAsk)
	r.send("slack", "U1", rate(done, engine.ChoiceRateDown))
	bindApp(t, r, "bnguyen")

	inScope := 0
	if err := r.a.Directory.(directory.Lister).List(ctx, 100, func(us []directory.User) error { inScope += len(us); return nil }); err != nil {
		t.Fatal(err)
	}
	ad, err := r.a.CountAdoption(ctx)
	if err != nil || ad.InScope != inScope || ad.Enrolled != 1 || ad.InScope < 5 {
		t.Fatalf("adoption %+v %v (in scope %d)", ad, err, inScope)
	}
	if err := r.a.FlushReport(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := report.FromStore(ctx, r.a.Store, report.Options{Since: time.Now().Add(-time.Hour)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Completed != 1 || rep.Abandoned != 1 || rep.TimeToReset.Count != 1 || rep.Started["reset"] != 2 ||
		rep.Adoption == nil || rep.Adoption.Enrolled != 1 || rep.Adoption.InScope != inScope ||
		rep.Satisfaction.Down != 1 || rep.Satisfaction.Up != 0 {
		t.Errorf("report from the store: %+v", rep)
	}
	for name, want := range map[string]float64{
		"resetbot_users_in_scope":            float64(inScope),
		"resetbot_users_enrolled":            1,
		"resetbot_adoption_ratio":            1 / float64(inScope),
		"resetbot_report_completed":          1,
		"resetbot_report_escalations":        0,
		"resetbot_report_deflection_ratio":   1,
		"resetbot_report_ratings":            1,
		"resetbot_report_satisfaction_ratio": 0,
	} {
		if got := gaugeValue(t, reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// A second flush adds nothing: the aggregates were drained.
	if err := r.a.FlushReport(ctx); err != nil {
		t.Fatal(err)
	}
	if got := gaugeValue(t, reg, "resetbot_report_completed"); got != 1 {
		t.Errorf("after a second flush: %v completed", got)
	}
}

// gaugeValue returns a gauge's value (the first series).
func gaugeValue(t *testing.T, reg *describedRegistry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}
