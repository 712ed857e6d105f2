package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/plugins"
)

// TestTracesHoldNoSecret runs a full reset with a recording tracer and
// checks the turn, store, directory and notifier spans exist, nest as
// turn → acquire / step → directory, notify / commit, and that no span
// name, attribute, event or status holds a secret or a user identifier.
func TestTracesHoldNoSecret(t *testing.T) {
	yaml := `mode: demo
store: {type: memory}
directories: [{name: demo, type: memory}]
notify: {outbox: true, sms: {provider: outbox}}
`
	cfg, probs := config.Parse([]byte(yaml), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	log, buf := loggingtest.Capture(t)
	r := &rig{t: t, logs: buf, rec: &audit.Recorder{}}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log, Audit: r.rec, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r.a = a
	const pw = "Velvet-Harbor-Lantern-93"
	r.expect(r.chatReset("U1", "amartin", pw), "done", "")
	names := map[string]int{}
	var dump strings.Builder
	for _, s := range sr.Ended() {
		names[s.Name()]++
		fmt.Fprintf(&dump, "%s %v %v", s.Name(), s.Status(), s.Attributes())
		for _, e := range s.Events() {
			fmt.Fprintf(&dump, " %s %v", e.Name, e.Attributes)
		}
		dump.WriteByte('\n')
	}
	for _, n := range []string{"engine.turn", "engine.step", "store.acquire_turn", "store.commit_turn",
		"directory.find", "directory.reset", "notify.send"} {
		if names[n] == 0 {
			t.Errorf("no %s span (spans: %v)", n, names)
		}
	}
	assertNesting(t, sr.Ended())
	forbidden := append([]string{pw, "amartin", "Alice", "+1555", "5550101", "@demo.example"}, r.secrets...)
	for _, s := range forbidden {
		if len(s) >= 5 && strings.Contains(dump.String(), s) {
			t.Errorf("%q… in the spans:\n%s", s[:3], dump.String())
		}
	}
	if dump.Len() == 0 {
		t.Fatal("no spans at all: the sweep proves nothing")
	}
}

// assertNesting checks each span's parent: store calls and the step under
// the turn, directory calls under the step (notifier sends are queued, so
// they may outlive it and are only checked to belong to a trace).
func assertNesting(t *testing.T, spans []sdktrace.ReadOnlySpan) {
	t.Helper()
	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID().String()] = s
	}
	parent := func(s sdktrace.ReadOnlySpan) string {
		if p, ok := byID[s.Parent().SpanID().String()]; ok {
			return p.Name()
		}
		return ""
	}
	want := map[string]string{"store.acquire_turn": "engine.turn", "store.commit_turn": "engine.turn",
		"engine.step": "engine.turn", "directory.find": "engine.step", "directory.reset": "engine.step"}
	for _, s := range spans {
		if w, ok := want[s.Name()]; ok && parent(s) != w {
			t.Errorf("%s is under %q, want %q", s.Name(), parent(s), w)
		}
	}
}
