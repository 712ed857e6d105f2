package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/bot/console"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/internal/bottest"
	"github.com/resetbot/resetbot/plugins"
)

// TestConformance plays the channel suite in the demo's terminal.
func TestConformance(t *testing.T) { bottest.Run(t, driver{}) }

// driver is the suite's console: the demo app and a Console reading a pipe
// and writing to a screen the driver reads.
type driver struct{}

func (driver) Name() string { return "console" }

func (driver) Lacks() map[bottest.Scenario]string {
	return map[bottest.Scenario]string{
		bottest.ScenarioStale: "a terminal shows one prompt at a time: a number typed always answers the newest " +
			"prompt, so no earlier screen's choice can be picked",
		bottest.ScenarioForged: "nothing reaches the console over a network: no signature or token to forge " +
			"(the terminal is the person's own process)",
		bottest.ScenarioReplay: "a terminal never redelivers a line: each line is read once, and every turn " +
			"has a fresh delivery ID",
	}
}

// Open builds the demo app; the console starts with the conversation.
func (driver) Open(t *testing.T) bottest.Channel {
	log, logs := loggingtest.Capture(t)
	k := &term{t: t, logs: logs, audit: &loggingtest.Buffer{}, screen: &screen{ch: make(chan struct{}, 1)}}
	a, err := app.Build(context.Background(), config.Default(plugins.All()), app.Options{Floor: -1, Log: log,
		Audit: audit.NewJSONWriter(k.audit), Clock: k.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	k.a = a
	return k
}

// term is one person at the demo terminal.
type term struct {
	t      *testing.T
	a      *app.App
	logs   *loggingtest.Buffer
	audit  *loggingtest.Buffer
	skew   atomic.Int64
	screen *screen
	in     *io.PipeWriter
	user   string
}

// prompts end every read of the console: a line, a hidden entry, its
// confirmation.
var prompts = []string{"you> ", "you (hidden)> ", "again (hidden)> "}

// Start runs the console as the demo's -as login -flow flow does: the chat
// identity a platform would map to the account.
func (k *term) Start(flow bottest.Flow, login string) bottest.Screen {
	in, w := io.Pipe()
	k.in, k.user = w, "demo-"+login
	c := &console.Console{Engine: k.a.Engine, Messages: k.a.Messages, In: in, Out: k.screen, User: k.user,
		Locale: "en", Hints: engine.Hints{Login: login}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx, string(flow)) }()
	k.t.Cleanup(func() { cancel(); _ = w.Close(); <-done })
	return k.next(0)
}

func (k *term) Say(text string) bottest.Screen {
	n := k.screen.len()
	k.line(text)
	return k.next(n)
}

func (k *term) AskForPerson() bottest.Screen { return k.Say("agent") }

// Choose types the number the screen shows beside the label.
func (k *term) Choose(on bottest.Screen, labelID string) bottest.Screen {
	label := k.a.Messages.Text("en", labelID, false, nil)
	m := regexp.MustCompile(`\[(\d+)\] ` + regexp.QuoteMeta(label)).FindStringSubmatch(on.Text)
	if m == nil {
		k.t.Fatalf("no choice %q on the screen %q", label, on.Text)
	}
	return k.Say(m[1])
}

// Masked types the hidden entry and its confirmation.
func (k *term) Masked(value, confirm string) bottest.Screen {
	n := k.screen.len()
	k.line(value)
	k.screen.wait(k.t, n, "again (hidden)> ")
	n = k.screen.len()
	k.line(confirm)
	return k.next(n)
}

func (k *term) Hold() (release func()) {
	return bottest.HoldSession(k.t, k.a.Store, "console", k.user)
}

func (k *term) Advance(d time.Duration) { k.skew.Add(int64(d)) }
func (k *term) Now() time.Time          { return time.Now().Add(time.Duration(k.skew.Load())) }

var setupKey = regexp.MustCompile(`setup key: ([A-Z2-7]+)`)

// Seed reads the setup key the terminal shows once.
func (k *term) Seed() string {
	m := setupKey.FindStringSubmatch(k.screen.String())
	if m == nil {
		k.t.Fatal("no setup key on the screen")
	}
	return m[1]
}

func (k *term) Authenticator(login string) string {
	seed := bottest.EnrollTOTP(k.t, k.a.Directory, k.a.Methods, login, k.Now())
	k.Advance(time.Minute) // the next code is a new time step
	return seed
}

var codeRE = regexp.MustCompile(`\b(\d{6,8})\b`)

func (k *term) Code() string {
	d, ok := k.a.Outbox.Last()
	if !ok {
		k.t.Fatal("the outbox is empty")
	}
	m := codeRE.FindStringSubmatch(strings.ReplaceAll(d.Message.Body.Reveal(), ", ", ""))
	if m == nil {
		k.t.Fatal("no code in the outbox message")
	}
	return m[1]
}

func (k *term) Sent() int                  { return len(k.a.Outbox.Messages()) }
func (k *term) Messages() bottest.Renderer { return k.a.Messages }
func (k *term) Voice() bool                { return false }

// Captured: the console's only output is the terminal, the person's own
// screen; it is swept like a platform's bodies, except the one line that
// shows an authenticator's setup key once, by design (the chat channels
// show it on the one-time enrollment page instead).
func (k *term) Captured() bottest.Captured {
	shown := setupKey.ReplaceAllString(k.screen.String(), "setup key: (shown once)")
	return bottest.Captured{Logs: k.logs.String(), Audit: k.audit.String(), Stored: bottest.Dump(k.t, k.a.Store),
		Outbound: []string{shown}}
}

func (k *term) line(s string) {
	if _, err := fmt.Fprintln(k.in, s); err != nil {
		k.t.Fatalf("type a line: %v", err)
	}
}

// next waits for the console to ask for input again after offset n and
// returns what it showed since.
func (k *term) next(n int) bottest.Screen {
	text := k.screen.wait(k.t, n, prompts...)
	s := bottest.Screen{Text: text, Masked: strings.HasSuffix(text, "you (hidden)> ")}
	for _, m := range regexp.MustCompile(`\[\d+\] (.+)`).FindAllStringSubmatch(text, -1) {
		s.Choices = append(s.Choices, m[1])
	}
	return s
}

// screen is the terminal: what the console wrote, with a signal on every
// write.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan struct{}
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
	default:
	}
	return s.buf.Write(p)
}

func (s *screen) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.buf.String() }
func (s *screen) len() int       { s.mu.Lock(); defer s.mu.Unlock(); return s.buf.Len() }

// wait returns what was written after offset n once it ends with one of
// the prompts (the console reads only after it has shown everything).
func (s *screen) wait(t *testing.T, n int, prompts ...string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		out := s.buf.String()[n:]
		s.mu.Unlock()
		for _, p := range prompts {
			if out != "" && strings.HasSuffix(out, p) {
				return out
			}
		}
		select {
		case <-s.ch:
		case <-deadline:
			t.Fatalf("the console never asked again; it showed %q", out)
		}
	}
}
