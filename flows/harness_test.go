package flows_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"github.com/resetbot/resetbot/internal/bottest"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	potp "github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/code"
	"github.com/resetbot/resetbot/core/identity/totp"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/outbox"
	"github.com/resetbot/resetbot/core/policy"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/flows"
)

var update = flag.Bool("update", false, "rewrite golden transcripts and diagrams")

// harness runs the real flows on in-memory parts with a fake clock.
type harness struct {
	t       testing.TB
	eng     *engine.Engine
	dir     *memory.Directory
	box     *outbox.Outbox
	rec     *audit.Recorder
	logs    *loggingtest.Buffer
	st      store.Store
	totp    *totp.Verifier
	reg     *regulation.Regulator
	cat     *messages.Catalog
	mu      sync.Mutex
	now     time.Time
	secrets []string
	slept   time.Duration
	// transcript lines for golden files
	lines []string
	// locale, when set, is the language of every turn, and the transcript
	// also records the text the user reads or hears.
	locale string
	// hints are the platform identity hints of every turn.
	hints engine.Hints
}

func newHarness(t testing.TB, mutate ...func(*flows.Deps)) *harness {
	return newHarnessOn(t, nil, mutate...)
}

// newHarnessOn runs the flows on st (nil: a memory store on the fake clock).
func newHarnessOn(t testing.TB, st store.Store, mutate ...func(*flows.Deps)) *harness {
	t.Helper()
	return newHarnessWith(t, st, memory.DemoAccounts(), mutate...)
}

// newHarnessWith runs the flows on st with the directory holding accounts.
func newHarnessWith(t testing.TB, st store.Store, accounts []memory.Account, mutate ...func(*flows.Deps)) *harness {
	t.Helper()
	h := &harness{t: t, now: time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC), rec: &audit.Recorder{}}
	clock := func() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.now }
	h.st = st
	if st == nil {
		h.st = storemem.New(storemem.WithClock(clock))
	}
	h.dir = memory.New(accounts...)
	h.dir.SetClock(clock)
	router, err := directory.NewRouter(directory.Route{Name: "demo", Dir: h.dir, Domains: []string{memory.DemoDomain}})
	if err != nil {
		t.Fatal(err)
	}
	log, buf := loggingtest.Capture(t)
	h.logs = buf
	h.box = outbox.New(nil)
	kr, err := crypt.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	h.totp = totp.New(h.st, kr, totp.Options{Issuer: "resetbot test", Clock: clock})
	pc, err := policy.New(policy.Options{CheckRepetition: true, BannedWords: []string{"demo"}})
	if err != nil {
		t.Fatal(err)
	}
	if h.cat, err = messages.Load(); err != nil {
		t.Fatal(err)
	}
	reg, err := regulation.New(h.st, bytes.Repeat([]byte{5}, 32), regulation.Limits{}, regulation.SendLimits{}, clock)
	if err != nil {
		t.Fatal(err)
	}
	h.reg = reg
	codes := code.New(h.st, bytes.Repeat([]byte{9}, 32), code.Options{Clock: clock})
	methods, err := identity.NewRegistry(totp.Method{V: h.totp}, code.SMS(codes), code.Voice(codes), code.Email(codes))
	if err != nil {
		t.Fatal(err)
	}
	d := flows.Deps{
		Directory: router, Methods: methods,
		Passwords: pc,
		Regulator: reg,
		Senders: map[notify.Channel]notify.Sender{notify.ChannelSMS: h.box.Sender(notify.ChannelSMS),
			notify.ChannelVoice: h.box.Sender(notify.ChannelVoice), notify.ChannelEmail: h.box.Sender(notify.ChannelEmail),
			notify.ChannelChat: h.box.Sender(notify.ChannelChat)},
		Renderer: h.cat, Policy: flows.DefaultPolicy(), Log: log,
		Generate: func(ctx context.Context, r io.Reader, u directory.User) (secret.String, error) {
			return pc.GenerateFor(ctx, r, 4, u)
		},
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("transcript:\n%s", strings.Join(h.lines, "\n"))
		}
	})
	for _, m := range mutate {
		m(&d)
	}
	if c, ok := d.Renderer.(*messages.Catalog); ok {
		h.cat = c
	}
	fl, err := flows.New(d)
	if err != nil {
		t.Fatal(err)
	}
	var words engine.Words
	var supports func(string) bool
	if h.cat != nil {
		words, supports = engine.Words(h.cat.Words()), h.cat.Supported
	}
	h.eng, err = engine.New(engine.Options{Store: h.st, Flows: fl, Audit: h.rec, Log: log, Clock: clock, Words: words, Supports: supports, Ratings: true,
		Sleep: func(_ context.Context, d time.Duration) { h.mu.Lock(); h.slept += d; h.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) advance(d time.Duration) { h.mu.Lock(); h.now = h.now.Add(d); h.mu.Unlock() }

// send runs one turn for user on channel and records it in the transcript.
func (h *harness) send(channel, user string, in engine.Input) engine.Reply {
	h.t.Helper()
	if in.Kind == engine.InputSecret {
		h.secrets = append(h.secrets, in.Value.Reveal())
	}
	r := h.eng.Handle(context.Background(), engine.Turn{Channel: channel, ChannelUser: user, Locale: h.locale, Hints: h.hints, Input: in})
	h.lines = append(h.lines, "> "+describe(in))
	for _, o := range r.Outputs {
		h.lines = append(h.lines, "< "+render(o))
		if h.locale != "" {
			h.lines = append(h.lines, "  | "+h.cat.Text(h.locale, o.MessageID, channel == "voice", stable(o.Args)))
			for _, c := range o.Expect.Choices {
				h.lines = append(h.lines, "  | ["+h.cat.Text(h.locale, c.MessageID, channel == "voice", nil)+"]")
			}
		}
		if txt := h.cat.Text("en", o.MessageID, channel == "voice", o.Args); strings.Contains(txt, "Sorry, something went wrong") {
			h.t.Errorf("message %q is not in the catalog", o.MessageID)
		}
	}
	h.lines = append(h.lines, fmt.Sprintf("= %s/%s ended=%v", r.Flow, r.State, r.Ended))
	return r
}

func describe(in engine.Input) string {
	switch in.Kind {
	case engine.InputChoice:
		return "choice " + in.Choice
	case engine.InputStart:
		return "start " + in.Flow
	case engine.InputSecret:
		return "secret (masked)"
	case engine.InputText, engine.InputDigits:
		v := in.Value.Reveal()
		if codeLike.MatchString(v) {
			v = "<code>"
		}
		return in.Kind.String() + " " + v
	}
	return in.Kind.String()
}

// codeLike matches a code as typed or pasted ("123456", "123 456", "123-456").
var codeLike = regexp.MustCompile(`^\d{3}[ -]?\d{3}$`)

// stable replaces the volatile arguments (reference, time, read-back phrase)
// with fixed ones, so rendered texts can be golden.
func stable(args map[string]string) map[string]string {
	out := make(map[string]string, len(args))
	for k, v := range args {
		switch k {
		case "ref":
			v = "R7K2M9Q4"
		case "when", "time", "until":
			v = "<" + k + ">"
		case "phrase":
			v = "<phrase>"
		}
		out[k] = v
	}
	return out
}

// render prints an output without its volatile reference ID.
func render(o engine.Output) string {
	var b strings.Builder
	b.WriteString(o.MessageID)
	keys := make([]string, 0, len(o.Args))
	for k := range o.Args {
		if k != "ref" && k != "when" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := o.Args[k]
		if k == "phrase" {
			v = "<phrase>" // random, and a secret
		}
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	if len(o.Expect.Choices) > 0 {
		ids := make([]string, len(o.Expect.Choices))
		for i, c := range o.Expect.Choices {
			ids[i] = c.ID
		}
		fmt.Fprintf(&b, " [%s]", strings.Join(ids, "|"))
	}
	if o.Expect.Kind == engine.ExpectDigits {
		fmt.Fprintf(&b, " <digits %d-%d>", o.Expect.MinDigits, o.Expect.MaxDigits)
	}
	if o.Expect.Kind == engine.ExpectSecret {
		b.WriteString(" <masked>")
	}
	if o.Sensitive {
		b.WriteString(" (sensitive)")
	}
	if o.Error {
		b.WriteString(" (error)")
	}
	if o.Attachment != nil {
		b.WriteString(" +" + o.Attachment.Kind)
	}
	return b.String()
}

// code returns the code in the last outbox message and remembers it as a secret.
func (h *harness) code() string {
	h.t.Helper()
	d, ok := h.box.Last()
	if !ok {
		h.t.Fatal("outbox is empty")
	}
	body := strings.ReplaceAll(d.Message.Body.Reveal(), ", ", "") // voice calls spell digits out
	m := regexp.MustCompile(`\b(\d{6,8})\b`).FindStringSubmatch(body)
	if m == nil {
		h.t.Fatalf("no code in outbox message %s", d.Message.Summary)
	}
	h.secrets = append(h.secrets, m[1])
	return m[1]
}

// totpCode computes the current authenticator code for a base32 seed.
func (h *harness) totpCode(seed string) string {
	h.t.Helper()
	c, err := potp.GenerateCodeCustom(seed, h.now, potp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		h.t.Fatal(err)
	}
	h.secrets = append(h.secrets, c, seed)
	return c
}

// golden compares the transcript with testdata/NAME.golden.
func (h *harness) golden(name string) {
	h.t.Helper()
	got := strings.Join(h.lines, "\n") + "\n"
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatalf("%v (run go test ./flows -update)", err)
	}
	if string(want) != got {
		h.t.Errorf("transcript %s differs (go test ./flows -update rewrites it)\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// assertNoLeaks runs the channel suite's one secret sweep (bottest.Sweep)
// over the logs, audit events, stored values and every rendered chat output
// (not what the user typed), for each secret the test used.
func (h *harness) assertNoLeaks() {
	h.t.Helper()
	c := bottest.Captured{Logs: h.logs.String()}
	for _, e := range h.rec.Events() {
		c.Audit += fmt.Sprintf("%+v\n", e)
	}
	if _, ok := h.st.(interface{ Dump() map[string][]byte }); ok {
		c.Stored = bottest.Dump(h.t, h.st)
	}
	for _, l := range h.lines {
		if !strings.HasPrefix(l, "> ") { // what the user typed is not the bot's output
			c.Outbound = append(c.Outbound, l)
		}
	}
	bottest.Sweep(h.t, c, h.secrets...)
}

func text(s string) engine.Input { return engine.Input{Kind: engine.InputText, Value: secret.New(s)} }
func digits(s string) engine.Input {
	return engine.Input{Kind: engine.InputDigits, Value: secret.New(s)}
}
func choice(id string) engine.Input { return engine.Input{Kind: engine.InputChoice, Choice: id} }
func start(f string) engine.Input   { return engine.Input{Kind: engine.InputStart, Flow: f} }
func masked(pw, again string) engine.Input {
	return engine.Input{Kind: engine.InputSecret, Value: secret.New(pw), Confirm: secret.New(again)}
}

type directoryUser = directory.User
