package code_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/code"
	"github.com/resetbot/resetbot/core/identity/internal/identitytest"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store/memory"
)

var (
	t0      = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	hmacKey = bytes.Repeat([]byte{7}, code.MinKeySize)
)

const (
	chA = "sess-A|reset|ldap:alice"
	chB = "sess-B|reset|ldap:alice"
)

type fixture struct {
	c     *code.Codes
	clock *identitytest.Clock
	rec   *identitytest.Recorder
}

func newFixture(t testing.TB, opts code.Options) *fixture {
	t.Helper()
	f := &fixture{clock: identitytest.NewClock(t0)}
	f.rec = identitytest.NewRecorder(memory.New(memory.WithClock(f.clock.Now)))
	opts.Clock = f.clock.Now
	f.c = code.New(f.rec, hmacKey, opts)
	if err := f.c.Validate(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) issue(t testing.TB, challenge string) secret.String {
	t.Helper()
	is, err := f.c.Issue(context.Background(), challenge, identity.FactorSMS, "+15550100")
	if err != nil || is.Wait != 0 || is.Code.Empty() {
		t.Fatalf("Issue = %+v, %v", is, err)
	}
	return is.Code
}

func (f *fixture) check(t testing.TB, challenge string, c secret.String, want identity.Result) {
	t.Helper()
	got, err := f.c.Check(context.Background(), challenge, c)
	if err != nil || got != want {
		t.Fatalf("Check = %v, %v; want %v", got, err, want)
	}
}

// wrongOf returns a well-formed code different from c.
func wrongOf(c secret.String) secret.String {
	s := []byte(c.Reveal())
	s[0] = '0' + (s[0]-'0'+1)%10
	return secret.New(string(s))
}

func TestIssueShape(t *testing.T) {
	for _, digits := range []int{6, 7, 8} {
		t.Run(fmt.Sprint(digits), func(t *testing.T) {
			f := newFixture(t, code.Options{Digits: digits})
			is, err := f.c.Issue(context.Background(), chA, identity.FactorVoice, "+15550100")
			if err != nil {
				t.Fatal(err)
			}
			if is.Code.Len() != digits {
				t.Errorf("code has %d digits, want %d", is.Code.Len(), digits)
			}
			if !is.ExpiresAt.Equal(t0.Add(code.DefaultTTL)) {
				t.Errorf("ExpiresAt = %v", is.ExpiresAt)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	tests := []struct {
		name  string
		after time.Duration
		want  identity.Result
	}{
		{"TTL-1s", code.DefaultTTL - time.Second, identity.Verified},
		{"TTL", code.DefaultTTL, identity.Expired},
		{"TTL+1s", code.DefaultTTL + time.Second, identity.Expired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, code.Options{})
			c := f.issue(t, chA)
			f.clock.Add(tt.after)
			f.check(t, chA, c, tt.want)
		})
	}
}

func TestSingleUse(t *testing.T) {
	f := newFixture(t, code.Options{})
	c := f.issue(t, chA)
	f.check(t, chA, c, identity.Verified)
	f.check(t, chA, c, identity.Expired)
}

func TestBoundToChallenge(t *testing.T) {
	f := newFixture(t, code.Options{})
	a := f.issue(t, chA)
	f.check(t, chB, a, identity.Expired) // no challenge in session B
	b := f.issue(t, chB)
	if a.Equal(b) {
		t.Skip("codes collided (one in a million)")
	}
	f.check(t, chB, a, identity.Wrong)
	f.check(t, chA, a, identity.Verified)
	f.check(t, chB, b, identity.Verified)
}

func TestResend(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, code.Options{})
	old := f.issue(t, chA)

	f.clock.Add(10 * time.Second)
	is, err := f.c.Issue(ctx, chA, identity.FactorSMS, "+15550100")
	if err != nil || is.Wait != 20*time.Second || !is.Code.Empty() {
		t.Fatalf("resend within cooldown = %+v, %v; want Wait 20s and no code", is, err)
	}
	f.clock.Add(20 * time.Second)
	fresh := f.issue(t, chA)
	if old.Equal(fresh) {
		t.Skip("codes collided")
	}
	f.check(t, chA, old, identity.Wrong)
	f.check(t, chA, fresh, identity.Verified)
}

func TestExhausted(t *testing.T) {
	f := newFixture(t, code.Options{})
	c := f.issue(t, chA)
	bad := wrongOf(c)
	for i := 1; i < code.DefaultMaxAttempts; i++ {
		f.check(t, chA, bad, identity.Wrong)
	}
	f.check(t, chA, bad, identity.Exhausted) // the fifth wrong code burns the challenge
	f.check(t, chA, c, identity.Exhausted)   // the right one comes too late
	f.clock.Add(code.DefaultResendCooldown)
	f.check(t, chA, f.issue(t, chA), identity.Verified)
}

func TestNormaliseAndMalformed(t *testing.T) {
	f := newFixture(t, code.Options{})
	c := f.issue(t, chA)
	s := c.Reveal()
	// Malformed input is Wrong but costs no attempt.
	for _, in := range []string{"", "12345", "1234567", "abcdef", s + "0", s[:5] + "x"} {
		for range code.DefaultMaxAttempts {
			f.check(t, chA, secret.New(in), identity.Wrong)
		}
	}
	f.check(t, chA, secret.New(" "+s[:3]+"-"+s[3:]+" "), identity.Verified)
}

func TestCancel(t *testing.T) {
	f := newFixture(t, code.Options{})
	c := f.issue(t, chA)
	if err := f.c.Cancel(context.Background(), chA); err != nil {
		t.Fatal(err)
	}
	f.check(t, chA, c, identity.Expired)
	if err := f.c.Cancel(context.Background(), chA); err != nil {
		t.Errorf("second Cancel: %v", err)
	}
}

func TestConcurrentChecks(t *testing.T) {
	f := newFixture(t, code.Options{})
	c := f.issue(t, chA)
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[identity.Result]int{}
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			res, err := f.c.Check(context.Background(), chA, c)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			counts[res]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if counts[identity.Verified] != 1 || counts[identity.Expired] != n-1 {
		t.Fatalf("results %v, want exactly one verified", counts)
	}

	// Concurrent wrong guesses are all counted: no more than MaxAttempts get Wrong.
	f.clock.Add(code.DefaultResendCooldown)
	bad := wrongOf(f.issue(t, chA))
	counts = map[identity.Result]int{}
	start = make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			res, _ := f.c.Check(context.Background(), chA, bad)
			mu.Lock()
			counts[res]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if counts[identity.Wrong] != code.DefaultMaxAttempts-1 || counts[identity.Exhausted] != n-code.DefaultMaxAttempts+1 {
		t.Fatalf("results %v", counts)
	}
}

func TestStoreHoldsNoCode(t *testing.T) {
	// A fixed reader so the test is deterministic.
	f := newFixture(t, code.Options{Rand: bytes.NewReader(bytes.Repeat([]byte{4, 8, 1, 5, 9, 2, 6, 3}, 64))})
	ctx := context.Background()
	var codes []string
	for _, ch := range []string{chA, chB} {
		is, err := f.c.Issue(ctx, ch, identity.FactorEmail, "alice@home.example")
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, is.Code.Reveal())
		if _, err := f.c.Check(ctx, ch, wrongOf(is.Code)); err != nil {
			t.Fatal(err)
		}
		if res, _ := f.c.Check(ctx, ch, is.Code); res != identity.Verified {
			t.Fatal("not verified")
		}
	}
	f.rec.AssertAbsent(t, append(codes, "alice@home.example", "15550100")...)
	for _, w := range f.rec.Writes() {
		if w.TTL <= 0 || w.TTL > code.MaxTTL {
			t.Errorf("write to %q with ttl %v", w.Key, w.TTL)
		}
	}
}

func TestInvalid(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	configs := []struct {
		name string
		key  []byte
		opts code.Options
	}{
		{"short key", hmacKey[:16], code.Options{}},
		{"5 digits", hmacKey, code.Options{Digits: 5}},
		{"9 digits", hmacKey, code.Options{Digits: 9}},
		{"ttl 11m", hmacKey, code.Options{TTL: 11 * time.Minute}},
		{"cooldown above ttl", hmacKey, code.Options{TTL: time.Minute, ResendCooldown: 2 * time.Minute}},
		{"attempts 50", hmacKey, code.Options{MaxAttempts: 50}},
	}
	for _, tt := range configs {
		t.Run(tt.name, func(t *testing.T) {
			c := code.New(st, tt.key, tt.opts)
			if err := c.Validate(); !errors.Is(err, identity.ErrInvalidConfig) {
				t.Fatalf("Validate = %v", err)
			}
			if _, err := c.Issue(ctx, chA, identity.FactorSMS, "+15550100"); !errors.Is(err, identity.ErrInvalidConfig) {
				t.Errorf("Issue err = %v", err)
			}
		})
	}
	c := code.New(st, hmacKey, code.Options{})
	inputs := []struct {
		name, challenge, dest string
		factor                identity.Factor
	}{
		{"empty challenge", "", "+15550100", identity.FactorSMS},
		{"totp factor", chA, "+15550100", identity.FactorTOTP},
		{"empty destination", chA, "", identity.FactorSMS},
	}
	for _, tt := range inputs {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Issue(ctx, tt.challenge, tt.factor, tt.dest); !errors.Is(err, identity.ErrInvalidInput) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// BenchmarkIssueCheck measures one Issue followed by one successful Check.
func BenchmarkIssueCheck(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, code.Options{})
	for b.Loop() {
		f.clock.Add(code.DefaultResendCooldown)
		is, err := f.c.Issue(ctx, chA, identity.FactorSMS, "+15550100")
		if err != nil {
			b.Fatal(err)
		}
		if res, err := f.c.Check(ctx, chA, is.Code); res != identity.Verified || err != nil {
			b.Fatalf("Check = %v, %v", res, err)
		}
	}
}

// BenchmarkCheckWrong measures a wrong Check (HMAC, attempt count, CAS). A fresh
// challenge is issued every MaxAttempts-1 checks so none is exhausted.
func BenchmarkCheckWrong(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, code.Options{MaxAttempts: 10})
	var bad secret.String
	i := 0
	for b.Loop() {
		if i%9 == 0 {
			f.clock.Add(code.DefaultResendCooldown)
			bad = wrongOf(f.issue(b, chA))
		}
		i++
		if res, err := f.c.Check(ctx, chA, bad); res != identity.Wrong || err != nil {
			b.Fatalf("Check = %v, %v", res, err)
		}
	}
}

// TestCheckRepeatedForSameDelivery: a code used by one delivery (a Slack
// event, a key press) is Verified again when that same delivery is checked
// again with the same code (a turn retried after a failover, its session
// never saved), and stays used for any other delivery, a wrong code, a
// plain Check, or after it expired.
func TestCheckRepeatedForSameDelivery(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, code.Options{})
	c := f.issue(t, chA)
	for i, want := range []identity.Result{identity.Verified, identity.Verified} {
		if got, err := f.c.CheckAttempt(ctx, chA, c, "CA1:4"); err != nil || got != want {
			t.Fatalf("check %d for the same delivery = %v, %v; want %v", i, got, err, want)
		}
	}
	if got, _ := f.c.CheckAttempt(ctx, chA, c, "CA1:5"); got != identity.Expired {
		t.Fatalf("another delivery = %v, want Expired", got)
	}
	if got, _ := f.c.CheckAttempt(ctx, chB, c, "CA1:4"); got != identity.Expired {
		t.Fatalf("another challenge = %v, want Expired", got)
	}
	wrong := secret.New("000000")
	if c.Reveal() == "000000" {
		wrong = secret.New("111111")
	}
	if got, _ := f.c.CheckAttempt(ctx, chA, wrong, "CA1:4"); got != identity.Expired {
		t.Fatalf("the same delivery with a wrong code = %v, want Expired", got)
	}
	f.check(t, chA, c, identity.Expired)
	f.clock.Add(code.MaxTTL + time.Second)
	if got, _ := f.c.CheckAttempt(ctx, chA, c, "CA1:4"); got != identity.Expired {
		t.Fatalf("after expiry = %v, want Expired", got)
	}
}

// TestIssueRepeatedForSameDelivery: the same delivery issuing again (a turn
// retried after a failover, its send already out) gets Again and no new
// code, past the resend cooldown too, and the first code still verifies;
// another delivery, another destination, or a plain Issue draws a new code
// (after the cooldown), and a used code is never reissued as Again.
func TestIssueRepeatedForSameDelivery(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, code.Options{})
	first, err := f.c.IssueAttempt(ctx, chA, identity.FactorSMS, "+15550100", "Ev1")
	if err != nil || first.Again || first.Code.Empty() {
		t.Fatalf("first IssueAttempt = %+v, %v", first, err)
	}
	f.clock.Add(code.DefaultResendCooldown + time.Second) // past the cooldown
	again, err := f.c.IssueAttempt(ctx, chA, identity.FactorSMS, "+15550100", "Ev1")
	if err != nil || !again.Again || !again.Code.Empty() || !again.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("the same delivery issuing again = %+v, %v; want Again, no code, the first expiry", again, err)
	}
	// Another destination for the same delivery (the number of record
	// changed) is a new code.
	moved, err := f.c.IssueAttempt(ctx, chA, identity.FactorSMS, "+15550199", "Ev1")
	if err != nil || moved.Again || moved.Code.Empty() {
		t.Fatalf("the same delivery to another destination = %+v, %v; want a new code", moved, err)
	}
	f.check(t, chA, first.Code, identity.Wrong)
	f.clock.Add(code.DefaultResendCooldown + time.Second)
	other, err := f.c.IssueAttempt(ctx, chA, identity.FactorSMS, "+15550199", "Ev2")
	if err != nil || other.Again || other.Code.Empty() {
		t.Fatalf("another delivery = %+v, %v; want a new code", other, err)
	}
	f.clock.Add(code.DefaultResendCooldown + time.Second)
	if is, err := f.c.Issue(ctx, chA, identity.FactorSMS, "+15550199"); err != nil || is.Again || is.Code.Empty() {
		t.Fatalf("plain Issue = %+v, %v; want a new code", is, err)
	}
	// A code verified is never handed out again as Again.
	f.clock.Add(code.DefaultResendCooldown + time.Second)
	used, err := f.c.IssueAttempt(ctx, chB, identity.FactorSMS, "+15550100", "Ev3")
	if err != nil || used.Code.Empty() {
		t.Fatalf("IssueAttempt = %+v, %v", used, err)
	}
	f.check(t, chB, used.Code, identity.Verified)
	f.clock.Add(code.DefaultResendCooldown + time.Second)
	if is, err := f.c.IssueAttempt(ctx, chB, identity.FactorSMS, "+15550100", "Ev3"); err != nil || is.Again || is.Code.Empty() {
		t.Fatalf("the same delivery after its code was used = %+v, %v; want a new code", is, err)
	}
}
