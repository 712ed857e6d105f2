package app_test

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/dashshot"
)

// TestDashboardOverAConversation renders deploy/grafana/resetbot.json over
// two real /metrics scrapes, before and after a short day of traffic (resets
// with ratings, an unlock, a wrong code, an escalation, an enrollment), and
// checks that every panel's queries evaluate and the headline figures are
// the conversations' own. With RESETBOT_DASHBOARD_HTML set it writes the
// page there (docs/img/dashboard.png is its headless Chromium screenshot).
func TestDashboardOverAConversation(t *testing.T) {
	r, reg, _ := observedRig(t)
	ctx := context.Background()
	scrape := func() []byte {
		t.Helper()
		rec := httptest.NewRecorder()
		promhttp.HandlerFor(reg.Registry, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		b, _ := io.ReadAll(rec.Body)
		return b
	}
	beforeScrape, began := scrape(), time.Now()

	for _, c := range []struct{ user, login, pw, rating string }{
		{"U1", "amartin", "Velvet-Harbor-Lantern-93", engine.ChoiceRateUp},
		{"U2", "bnguyen", "Copper-Meadow-Falcon-48", engine.ChoiceRateUp},
		{"U3", "fhaddad", "Silver-Orchard-Tiger-57", engine.ChoiceRateDown},
	} {
		done := r.chatReset(c.user, c.login, c.pw)
		r.expect(done, "done", engine.MsgRateAsk)
		r.send("slack", c.user, rate(done, c.rating))
	}
	// Chiara unlocks her account and skips the rating.
	if rep := r.chatVerify("U4", flows.FlowUnlock, "crossi", "sms"); rep.State != "done" {
		t.Fatalf("unlock ended in %s", rep.State)
	}
	// A stranger gets a code wrong, then asks for a person.
	r.send("slack", "U9", start(flows.FlowReset))
	r.send("slack", "U9", text("amartin"))
	r.send("slack", "U9", choice("sms"))
	r.code()
	r.send("slack", "U9", text("000000"))
	r.send("slack", "U9", text("agent"))
	bindApp(t, r, "crossi")
	if _, err := r.a.CountAdoption(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.a.FlushReport(ctx); err != nil {
		t.Fatal(err)
	}
	afterScrape := scrape()

	b, err := dashshot.Parse(beforeScrape)
	if err != nil {
		t.Fatal(err)
	}
	a, err := dashshot.Parse(afterScrape)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../deploy/grafana/resetbot.json")
	if err != nil {
		t.Fatal(err)
	}
	window := max(time.Since(began).Round(time.Second), time.Second)
	pg, err := dashshot.Build(raw, dashshot.Scrapes{Before: b, After: a, Window: window},
		"Rendered by internal/dashshot from two /metrics scrapes of the demo app around TestDashboardOverAConversation "+
			"(3 chat resets rated easy, easy, not easy; an unlock; a failed code; an escalation; an enrollment; report.cost_per_ticket 25; turns driven through the engine, not HTTP, so the HTTP and notifier-queue panels are empty), window "+window.String()+
			"; time-series panels show each series over the window as a bar. Not Grafana.")
	if err != nil {
		t.Fatal(err)
	}
	stats := map[string]string{}
	for _, p := range pg.Panels {
		for _, e := range p.Errors {
			t.Errorf("panel %q: %s", p.Title, e)
		}
		if p.Type == "stat" {
			stats[p.Title] = p.Stat
		}
	}
	for title, want := range map[string]string{"Resets completed (range)": "3", "Unlocks completed (range)": "1", "Estimated saving, 30 days": "100", "Satisfaction, 30 days": "66.7%",
		"Adoption (enrolled / in scope)": "", "Deflection (no help desk)": ""} {
		got, ok := stats[title]
		if !ok || got == "no data" || (want != "" && got != want) {
			t.Errorf("stat %q = %q, want %q", title, got, want)
		}
	}
	html, err := pg.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "Time to reset") {
		t.Error("page lacks panels")
	}
	if out := os.Getenv("RESETBOT_DASHBOARD_HTML"); out != "" {
		if err := os.WriteFile(out, html, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
