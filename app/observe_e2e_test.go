package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/audit/ocsf/ocsftest"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/report"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/plugins"
)

// observedRig builds the demo app with metrics on and the OCSF trail in a
// file.
func observedRig(t *testing.T) (*rig, *describedRegistry, string) {
	t.Helper()
	dir := t.TempDir()
	ocsfFile := filepath.Join(dir, "ocsf.jsonl")
	yaml := `mode: demo
store: {type: memory}
directories: [{name: demo, type: memory}]
notify: {outbox: true, sms: {provider: outbox}}
audit: {file: "` + filepath.Join(dir, "audit.jsonl") + `", ocsf: {file: "` + ocsfFile + `"}}
report: {cost_per_ticket: 25, currency: USD}
`
	cfg, probs := config.Parse([]byte(yaml), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	reg := &describedRegistry{Registry: prometheus.NewRegistry(), names: map[string]bool{}}
	log, buf := loggingtest.Capture(t)
	r := &rig{t: t, logs: buf, rec: &audit.Recorder{}}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log, Audit: r.rec, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	// The conversations below come from "slack": the channel is opened, so
	// it is a metric label (a stand-in, as no Slack adapter runs here).
	a.AddChannel(stubChannel("slack"))
	r.a = a
	return r, reg, ocsfFile
}

// stubChannel is an opened channel with no route and no capability.
type stubChannel string

func (c stubChannel) Name() string                  { return string(c) }
func (stubChannel) Routes() map[string]http.Handler { return nil }
func (stubChannel) Start(context.Context) error     { return nil }
func (stubChannel) Shutdown(context.Context) error  { return nil }

// TestObservedConversation runs a full chat reset and a failed attempt, then
// checks the OCSF trail (every event valid against OCSF 1.3.0, the user's
// reference on each, no secret) and the business metrics.
func TestObservedConversation(t *testing.T) {
	r, reg, ocsfFile := observedRig(t)
	// A stranger gets a code wrong, then gives up.
	r.expect(r.send("slack", "U9", start(flows.FlowReset)), "identify", "")
	r.send("slack", "U9", text("amartin"))
	r.send("slack", "U9", choice("sms"))
	r.code()
	r.send("slack", "U9", text("000000"))
	r.send("slack", "U9", choice("cancel"))
	// The owner resets.
	rep := r.chatReset("U1", "amartin", "Velvet-Harbor-Lantern-93")
	r.expect(rep, "done", "")
	// The owner rates it: the flow.rating event goes through OCSF too.
	r.expect(r.send("slack", "U1", rate(rep, engine.ChoiceRateUp)), "", engine.MsgRateThanks)
	refs := map[string]bool{}
	for _, e := range r.rec.Events() {
		refs[e.Ref] = true
	}

	// OCSF records go through the audit queue: flush it, as shutdown does.
	if err := r.a.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(ocsfFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	if len(lines) != len(r.rec.Events()) {
		t.Errorf("%d OCSF events for %d audit events", len(lines), len(r.rec.Events()))
	}
	classes := map[float64]int{}
	for _, l := range lines {
		for _, err := range ocsftest.Validate(l) {
			t.Errorf("%v\n%s", err, l)
		}
		var ev struct {
			ClassUID float64 `json:"class_uid"`
			Metadata struct {
				CorrelationUID string `json:"correlation_uid"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(l, &ev)
		classes[ev.ClassUID]++
		if ev.Metadata.CorrelationUID == "" || !refs[ev.Metadata.CorrelationUID] {
			t.Errorf("event without the user's reference: %s", l)
		}
	}
	if classes[3001] == 0 || classes[3002] < 3 {
		t.Errorf("classes %v: want an Account Change and a 3002 per factor check", classes)
	}
	for _, s := range r.secrets {
		if len(s) >= 6 && bytes.Contains(data, []byte(s)) {
			t.Errorf("secret %q… in the OCSF trail", s[:2])
		}
	}
	r.assertNoLeaks()

	for _, c := range []struct {
		metric string
		labels []string
		want   float64
	}{
		{"resetbot_flows_started_total", []string{"flow", "reset", "channel", "slack"}, 2},
		{"resetbot_flows_ended_total", []string{"flow", "reset", "channel", "slack", "outcome", "done"}, 1},
		{"resetbot_flows_ended_total", []string{"flow", "reset", "channel", "slack", "outcome", "cancelled"}, 1},
		{"resetbot_verifications_total", []string{"factor", "sms", "outcome", "failure"}, 1},
		{"resetbot_verifications_total", []string{"factor", "sms", "outcome", "success"}, 1},
		{"resetbot_verifications_total", []string{"factor", "email", "outcome", "success"}, 1},
		{"resetbot_codes_sent_total", []string{"channel", "sms"}, 2},
		{"resetbot_account_changes_total", []string{"operation", "reset", "outcome", "success"}, 1},
		{"resetbot_directory_operation_duration_seconds", []string{"directory", "demo", "operation", "reset"}, 1},
		{"resetbot_flow_completion_seconds", []string{"flow", "reset", "channel", "slack"}, 1},
		{"resetbot_ratings_total", []string{"flow", "reset", "channel", "slack", "rating", "up"}, 1},
	} {
		if got := metricValue(t, reg, c.metric, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.metric, c.labels, got, c.want)
		}
	}
	assertNoUserInLabels(t, reg, "amartin", "U1", "U9", "+1555")
	assertDashboardMetricsExist(t, reg)

	// The ROI report reads the same conversation from the audit file.
	fh, err := os.Open(r.a.Config.Audit.File)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	roi, err := report.Build(fh, report.Options{Since: time.Now().Add(-time.Hour), CostPerTicket: 10})
	if err != nil {
		t.Fatal(err)
	}
	if roi.Completed != 1 || roi.Abandoned != 1 || roi.TimeToReset.Count != 1 || roi.Saving != 10 || roi.Skipped != 0 ||
		len(roi.Completions) != 1 || roi.Completions[0] != (report.Count{Flow: "reset", Channel: "slack", Count: 1}) {
		t.Errorf("report over the app's audit file: %+v", roi)
	}
}

// metricValue returns a counter's value, or a histogram's sample count.
func metricValue(t *testing.T, reg *describedRegistry, name string, kv ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(kv); i += 2 {
				if have[kv[i]] != kv[i+1] {
					continue next
				}
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func assertNoUserInLabels(t *testing.T, reg *describedRegistry, ids ...string) {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				for _, id := range ids {
					if strings.Contains(l.GetValue(), id) {
						t.Errorf("%s has a user identifier in label %s=%q", mf.GetName(), l.GetName(), l.GetValue())
					}
				}
			}
		}
	}
}

var metricRE = regexp.MustCompile(`resetbot_[a-z_]+`)

// assertDashboardMetricsExist checks that every metric the Grafana dashboard
// queries is one the app exports after a conversation.
func assertDashboardMetricsExist(t *testing.T, reg *describedRegistry) {
	t.Helper()
	raw, err := os.ReadFile("../deploy/grafana/resetbot.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	// The HTTP metrics belong to core/server; the queue metrics exist only
	// with real notifiers (TestWatchQueue), not with the demo outbox.
	known := map[string]bool{"resetbot_http_requests_total": true, "resetbot_http_request_duration_seconds": true,
		"resetbot_notify_queue_depth": true, "resetbot_notify_queue_shed_total": true}
	for name := range reg.names {
		known[name] = true
	}
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range metricRE.FindAllString(tg.Expr, -1) {
				n++
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_count"), "_sum")
				if !known[base] {
					t.Errorf("panel %q queries %s, which resetbot does not export", p.Title, m)
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("dashboard queries only %d metrics", n)
	}
}

// describedRegistry remembers the name of every metric registered, including
// vectors that have not been observed yet (Gather leaves those out).
type describedRegistry struct {
	*prometheus.Registry
	names map[string]bool
}

var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d *describedRegistry) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	for desc := range ch {
		if m := descName.FindStringSubmatch(desc.String()); m != nil {
			d.names[m[1]] = true
		}
	}
	return d.Registry.Register(c)
}

func (d *describedRegistry) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			panic(err)
		}
	}
}

// rate is the click on a rating button of the completion reply rep.
func rate(rep engine.Reply, choice string) engine.Input {
	in := engine.Input{Kind: engine.InputChoice, Choice: choice, State: rep.Step}
	return in
}
