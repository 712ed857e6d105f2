package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
)

func fixedClock() time.Time {
	return time.Date(2026, 11, 27, 9, 30, 0, 0, time.FixedZone("CET", 3600))
}

func TestJSONWriterOneLinePerEventUTC(t *testing.T) {
	var buf bytes.Buffer
	w := audit.NewJSONWriter(&buf, audit.WithClock(fixedClock))
	ctx := context.Background()
	events := []audit.Event{
		{Name: audit.NameVerifyAttempt, Channel: "slack", Actor: "alice", Factor: "totp", Outcome: audit.OutcomeFailure,
			Fields: map[string]string{"try": "2"}},
		{Name: audit.NameCodeSent, Time: fixedClock().Add(time.Second), Destination: audit.MaskPhone("+15550100101")},
	}
	for _, e := range events {
		if err := w.Write(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", buf.String())
	}
	wantTimes := []string{"2026-11-27T08:30:00Z", "2026-11-27T08:30:01Z"}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d not JSON: %v", i, err)
		}
		if m["time"] != wantTimes[i] {
			t.Errorf("line %d time = %v, want %s", i, m["time"], wantTimes[i])
		}
		if m["event"] != events[i].Name {
			t.Errorf("line %d event = %v", i, m["event"])
		}
		if _, ok := m["ref"]; ok {
			t.Errorf("empty field not omitted: %s", l)
		}
	}
	var back audit.Event
	if err := json.Unmarshal([]byte(lines[0]), &back); err != nil {
		t.Fatal(err)
	}
	if back.Factor != "totp" || back.Fields["try"] != "2" || !back.Time.Equal(fixedClock()) {
		t.Errorf("round trip: %+v", back)
	}
}

func TestJSONWriterLogInjection(t *testing.T) {
	cases := map[string]string{
		"newline":       "x\n{\"event\":\"reset.done\",\"outcome\":\"success\"}",
		"carriage":      "x\r{\"event\":\"reset.done\"}",
		"line sep":      "x\u2028{\"event\":\"reset.done\"}",
		"para sep":      "x\u2029y",
		"nul and ctrls": "x\x00\x1b[31my",
	}
	for name, actor := range cases {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			w := audit.NewJSONWriter(&buf, audit.WithClock(fixedClock))
			err := w.Write(context.Background(), audit.Event{Name: audit.NameAuthnRejected, Actor: actor,
				Fields: map[string]string{actor: actor}})
			if err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("not exactly one line: %q", out)
			}
			for _, bad := range []string{"\r", "\u2028", "\u2029", "\x00", "\x1b"} {
				if strings.Contains(out, bad) {
					t.Errorf("raw %q in output %q", bad, out)
				}
			}
			var back audit.Event
			if err := json.Unmarshal([]byte(out), &back); err != nil {
				t.Fatal(err)
			}
			if back.Actor != actor {
				t.Errorf("actor = %q, want %q", back.Actor, actor)
			}
		})
	}
}

func TestJSONWriterConcurrentLinesIntact(t *testing.T) {
	var buf bytes.Buffer
	w := audit.NewJSONWriter(&buf)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				_ = w.Write(context.Background(), audit.Event{Name: audit.NameTransition, Actor: strings.Repeat("a", 300)})
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("want 400 lines, got %d", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("interleaved line: %q", l)
		}
		if !strings.Contains(l, `"time":"`) || !strings.Contains(l, `Z"`) {
			t.Fatalf("time missing or not UTC: %q", l)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestJSONWriterErrors(t *testing.T) {
	w := audit.NewJSONWriter(failWriter{})
	if err := w.Write(context.Background(), audit.Event{Name: "x"}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	// A client that hung up must not cost the record.
	if err := audit.NewJSONWriter(&buf).Write(ctx, audit.Event{Name: "x"}); err != nil || !strings.Contains(buf.String(), `"event":"x"`) {
		t.Errorf("cancelled ctx: err = %v, written %q", err, buf.String())
	}
}

type errSink struct{ err error }

func (s errSink) Write(context.Context, audit.Event) error { return s.err }

func TestMultiAndDiscard(t *testing.T) {
	var a, b audit.Recorder
	boom := errors.New("boom")
	m := audit.Multi(&a, errSink{boom}, &b, audit.Discard)
	err := m.Write(context.Background(), audit.Event{Name: audit.NameEscalation})
	if !errors.Is(err, boom) {
		t.Errorf("Multi error = %v, want boom", err)
	}
	if len(a.Events()) != 1 || len(b.Events()) != 1 {
		t.Errorf("every sink must be written: a=%d b=%d", len(a.Events()), len(b.Events()))
	}
	if err := audit.Multi(&a).Write(context.Background(), audit.Event{}); err != nil {
		t.Errorf("no error expected: %v", err)
	}
	if err := audit.Discard.Write(context.Background(), audit.Event{}); err != nil {
		t.Error(err)
	}
}

func TestRecorder(t *testing.T) {
	var r audit.Recorder
	ctx := context.Background()
	f := map[string]string{"k": "v"}
	_ = r.Write(ctx, audit.Event{Name: audit.NameVerifyAttempt, Fields: f})
	_ = r.Write(ctx, audit.Event{Name: audit.NameResetDone})
	_ = r.Write(ctx, audit.Event{Name: audit.NameVerifyAttempt})
	f["k"] = "changed"
	if got, want := r.Names(), []string{audit.NameVerifyAttempt, audit.NameResetDone, audit.NameVerifyAttempt}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names = %v", got)
	}
	if got := r.Find(audit.NameVerifyAttempt); len(got) != 2 || got[0].Fields["k"] != "v" {
		t.Errorf("Find = %+v (recorder must copy Fields)", got)
	}
	r.Reset()
	if len(r.Events()) != 0 {
		t.Error("Reset did not clear")
	}
}

func TestHashSession(t *testing.T) {
	id := "3q2+7wAAAAAAAAAAAAAAAA"
	h := audit.HashSession(id)
	if len(h) != 32 || strings.Contains(h, id) || h != audit.HashSession(id) || h == audit.HashSession(id+"x") {
		t.Errorf("HashSession = %q", h)
	}
	if audit.HashSession("") != "" {
		t.Error("empty id must hash to empty")
	}
}

func TestMask(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"phone e164", "+15550100101", "•••0101"},
		{"phone spaced", "+44 20 7946 0958", "•••0958"},
		{"phone short", "+1234567", "•••"},
		{"phone empty", "", "•••"},
		{"email", "alice@corp.example", "a•••@corp.example"},
		{"email unicode", "élodie@corp.example", "é•••@corp.example"},
		{"email no local", "@corp.example", "•••"},
		{"email no domain", "alice@", "•••"},
		{"email garbage domain", "a@x\n{}", "•••"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := audit.MaskDestination(tc.in)
			if got != tc.want {
				t.Errorf("MaskDestination(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if got := audit.MaskEmail("not-an-address"); got != "•••" {
		t.Errorf("MaskEmail = %q", got)
	}
	if got := audit.MaskPhone("+15550100101"); got != "•••0101" {
		t.Errorf("MaskPhone = %q", got)
	}
}

func TestSensitiveFieldKeysRedacted(t *testing.T) {
	var buf bytes.Buffer
	w := audit.NewJSONWriter(&buf, audit.WithClock(fixedClock))
	e := audit.Event{Name: audit.NameVerifyAttempt, Fields: map[string]string{"code": "493817", "New_Password": "pw-123", "try": "2"}}
	if err := w.Write(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "493817") || strings.Contains(out, "pw-123") || !strings.Contains(out, `"try":"2"`) {
		t.Errorf("output %s", out)
	}
	if e.Fields["code"] != "493817" {
		t.Error("MarshalJSON modified the caller's Fields")
	}
}

func BenchmarkJSONWriter(b *testing.B) {
	w := audit.NewJSONWriter(io.Discard)
	e := audit.Event{Name: audit.NameVerifyAttempt, Ref: "R7K2-9QXM", Session: audit.HashSession("s"), Channel: "slack",
		Actor: "uid=alice,ou=people,dc=corp,dc=example", Factor: "totp", Outcome: audit.OutcomeFailure,
		Fields: map[string]string{"try": "2"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = w.Write(ctx, e)
	}
}
