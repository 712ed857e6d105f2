package escalate_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/audit/audittest"
	"github.com/resetbot/resetbot/core/handoff/escalate"
	"github.com/resetbot/resetbot/core/handoff/webhook"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/secret"
)

const (
	ticketSecret = "ticket-secret-0123456789"
	typedSecret  = "Hunter2-Correct-Horse!"
)

var at = time.Date(2026, 11, 27, 9, 30, 0, 0, time.FixedZone("CET", 3600))

func packet() escalate.Packet {
	return escalate.Packet{Ref: "R-7K2Q", Reason: "lockout:banned", Channel: "slack", User: "amartin", Flow: "reset",
		State: "verify_code", Factors: []escalate.FactorAttempt{{"sms", "failure"}, {"totp", "failure"}},
		Messages: []string{"reset.identify", "reset.code_sent", "verify.wrong_code"}, Time: at}
}

func TestRender(t *testing.T) {
	want := `resetbot escalation R-7K2Q
Reason: lockout:banned
User: amartin
Factors of record: none
Channel: slack
Flow: reset (state verify_code)
Factors tried: sms failure, totp failure
Conversation: reset.identify, reset.code_sent, verify.wrong_code
Time: 2026-11-27T08:30:00Z
`
	if got := escalate.Render(packet()); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := escalate.Render(escalate.Packet{Ref: "R-1", Reason: "asked_for_agent", Channel: "voice"}); !strings.Contains(got, "User: (not identified)") ||
		!strings.Contains(got, "Factors tried: none") {
		t.Fatalf("empty packet:\n%s", got)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*escalate.Packet)
		get  func(escalate.Packet) string
		want string
	}{
		{"email user", func(p *escalate.Packet) { p.User = "alice.martin@demo.example" }, func(p escalate.Packet) string { return p.User }, "a•••@demo.example"},
		{"phone user", func(p *escalate.Packet) { p.User = "+15555550101" }, func(p escalate.Packet) string { return p.User }, "•••0101"},
		{"login kept", func(p *escalate.Packet) { p.User = "amartin" }, func(p escalate.Packet) string { return p.User }, "amartin"},
		{"typed text in user", func(p *escalate.Packet) { p.User = "my password is " + typedSecret }, func(p escalate.Packet) string { return p.User }, escalate.Redacted},
		{"typed text in messages", func(p *escalate.Packet) { p.Messages = []string{typedSecret} }, func(p escalate.Packet) string { return p.Messages[0] }, escalate.Redacted},
		{"phone in reason", func(p *escalate.Packet) { p.Reason = "+15555550101" }, func(p escalate.Packet) string { return p.Reason }, "•••0101"},
		{"markup in state", func(p *escalate.Packet) { p.State = "<!channel>" }, func(p escalate.Packet) string { return p.State }, escalate.Redacted},
		{"utc", func(*escalate.Packet) {}, func(p escalate.Packet) string { return p.Time.Location().String() }, "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := packet()
			tt.mod(&p)
			if got := tt.get(escalate.Sanitize(p)); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	p := packet()
	p.Messages = make([]string, 200)
	for i := range p.Messages {
		p.Messages[i] = "reset.x"
	}
	if n := len(escalate.Sanitize(p).Messages); n != escalate.MaxMessages {
		t.Fatalf("%d messages", n)
	}
}

type poster struct {
	mu    sync.Mutex
	texts []string
	err   error
	block chan struct{}
}

func (p *poster) Post(_ context.Context, text string) error {
	if p.block != nil {
		<-p.block
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.texts = append(p.texts, text)
	return p.err
}

func (p *poster) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.texts...)
}

func TestSink(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !webhook.Verify(secret.New(ticketSecret), r.Header.Get(webhook.SignatureHeader), b, time.Now(), webhook.DefaultTolerance) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	lg, buf := loggingtest.Capture(t)
	rec := &audit.Recorder{}
	sender := webhook.NewSender(webhook.Options{AllowLoopbackHTTP: true, Log: lg})
	slack, teams := &poster{}, &poster{err: errors.New("teams: 502")}
	s := escalate.New(escalate.Options{Ticket: webhook.Target{Name: "ticket", URL: srv.URL, Secret: secret.New(ticketSecret)},
		Sender: sender, Posters: map[string]escalate.Poster{"slack": slack, "teams": teams}, Audit: rec, Log: lg})
	p := packet()
	p.User = "alice.martin@demo.example"
	p.Messages = append(p.Messages, typedSecret)
	if err := s.Escalate(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	s.Close()
	sender.Close()
	if len(bodies) != 1 || sender.Stats().Delivered != 1 {
		t.Fatalf("ticket bodies %v stats %+v", bodies, sender.Stats())
	}
	var tb map[string]any
	if err := json.Unmarshal([]byte(bodies[0]), &tb); err != nil || tb["ref"] != "R-7K2Q" || tb["user"] != "a•••@demo.example" ||
		!strings.Contains(tb["text"].(string), "Reason: lockout:banned") {
		t.Fatalf("ticket %s", bodies[0])
	}
	if got := slack.got(); len(got) != 1 || got[0] != tb["text"] {
		t.Fatalf("slack got %v", got)
	}
	if sent := rec.Find(escalate.NameSent); len(sent) != 1 || sent[0].Fields["destinations"] != "ticket,slack,teams" {
		t.Fatalf("audit %+v", rec.Events())
	}
	if failed := rec.Find(audit.NameSendFailed); len(failed) != 1 || failed[0].Fields["destination"] != "teams" {
		t.Fatalf("send.failed %+v", failed)
	}
	all := strings.Join(append(bodies, slack.got()...), "\n")
	for _, leak := range []string{typedSecret, ticketSecret, "alice.martin"} {
		if strings.Contains(all, leak) {
			t.Errorf("%q in a packet", leak)
		}
	}
	buf.AssertNoSecrets(t, typedSecret, ticketSecret)
	audittest.AssertNoSecrets(t, rec, typedSecret, ticketSecret, "alice.martin@demo.example")
	if err := s.Escalate(context.Background(), p); err == nil {
		t.Fatal("escalate after close succeeded")
	}
}

func TestSinkBounded(t *testing.T) {
	lg, _ := loggingtest.Capture(t)
	slow := &poster{block: make(chan struct{})}
	s := escalate.New(escalate.Options{Posters: map[string]escalate.Poster{"slack": slow}, Queue: 1, Log: lg})
	ctx := context.Background()
	var full int
	for range 5 {
		if err := s.Escalate(ctx, packet()); errors.Is(err, escalate.ErrQueueFull) {
			full++
		}
	}
	close(slow.block)
	s.Close()
	// one in the worker, one in the queue, at least one more dropped
	if full < 3 || len(slow.got())+full != 5 {
		t.Fatalf("full %d posted %d", full, len(slow.got()))
	}
}

func TestPosterPanics(t *testing.T) {
	lg, buf := loggingtest.Capture(t)
	bad := escalate.PosterFunc(func(context.Context, string) error { panic(typedSecret) })
	good := &poster{}
	s := escalate.New(escalate.Options{Posters: map[string]escalate.Poster{"a": bad, "b": good}, Log: lg})
	_ = s.Escalate(context.Background(), packet())
	s.Close()
	if len(good.got()) != 1 {
		t.Fatal("worker died")
	}
	buf.AssertNoSecrets(t, typedSecret)
}

// TestAddPoster: a channel opened after the Sink was built receives the
// packets escalated from then on, and is named in the audit destinations.
func TestAddPoster(t *testing.T) {
	lg, _ := loggingtest.Capture(t)
	early, late := &poster{}, &poster{}
	s := escalate.New(escalate.Options{Posters: map[string]escalate.Poster{"early": early}, Log: lg})
	_ = s.Escalate(context.Background(), packet())
	s.AddPoster("late", late)
	_ = s.Escalate(context.Background(), packet())
	s.Close()
	if len(early.got()) != 2 || len(late.got()) != 1 {
		t.Fatalf("early got %d posts, late got %d; want 2 and 1", len(early.got()), len(late.got()))
	}
}
