package totp_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/internal/identitytest"
	"github.com/resetbot/resetbot/core/identity/totp"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/memory"
)

// t0 is the start of a 30 s step, so ±n steps are exact.
var t0 = time.Unix(1_800_000_000-1_800_000_000%30, 0)

type fixture struct {
	v     *totp.Verifier
	rec   *identitytest.Recorder
	clock *identitytest.Clock
	kr    *crypt.Keyring
	mem   *memory.Store
}

func ring(t testing.TB, primary string, ids ...string) *crypt.Keyring {
	t.Helper()
	keys := map[string][]byte{}
	for i, id := range ids {
		keys[id] = bytes.Repeat([]byte{byte(i + 1)}, crypt.KeySize)
	}
	kr, err := crypt.NewKeyring(primary, keys)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{clock: identitytest.NewClock(t0.Add(5 * time.Second)), kr: ring(t, "k1", "k1")}
	f.mem = memory.New(memory.WithClock(f.clock.Now))
	f.rec = identitytest.NewRecorder(f.mem)
	f.v = totp.New(f.rec, f.kr, totp.Options{Issuer: "Acme", Clock: f.clock.Now})
	if err := f.v.Validate(); err != nil {
		t.Fatal(err)
	}
	return f
}

func code(t testing.TB, b32 string, at time.Time) secret.String {
	t.Helper()
	c, err := otptotp.GenerateCodeCustom(b32, at, otptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return secret.New(c)
}

// enroll begins and confirms an enrollment at step t0-10 (so the confirming
// code's step is older than everything the tests then submit).
func (f *fixture) enroll(t testing.TB, user string) string {
	t.Helper()
	ctx := context.Background()
	now := f.clock.Now()
	f.clock.Set(t0.Add(-10 * 30 * time.Second))
	e, err := f.v.Begin(ctx, user, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.v.Confirm(ctx, user, code(t, e.Secret.Reveal(), f.clock.Now()))
	if err != nil || res != identity.Verified {
		t.Fatalf("Confirm = %v, %v", res, err)
	}
	f.clock.Set(now)
	return e.Secret.Reveal()
}

func TestBegin(t *testing.T) {
	f := newFixture(t)
	seed := bytes.Repeat([]byte{0xA5}, totp.SeedSize)
	v := totp.New(f.rec, f.kr, totp.Options{Issuer: "Acme", Clock: f.clock.Now, Rand: bytes.NewReader(seed)})
	e, err := v.Begin(context.Background(), "ldap:alice", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seed)
	if e.Secret.Reveal() != want {
		t.Errorf("seed does not come from the injected reader")
	}
	u := e.URL.Reveal()
	for _, part := range []string{"otpauth://totp/Acme:alice@example.com?", "algorithm=SHA1", "digits=6", "period=30", "issuer=Acme", "secret=" + want} {
		if !strings.Contains(u, part) {
			t.Errorf("URL lacks %q", part)
		}
	}
	img, err := png.Decode(bytes.NewReader(e.QRPNG))
	if err != nil || img.Bounds().Dx() != totp.QRSize {
		t.Errorf("QRPNG: %v", err)
	}
	if ok, _ := v.Enrolled(context.Background(), "ldap:alice"); ok {
		t.Error("enrolled before Confirm")
	}
	for _, bad := range []string{"", "a:b"} {
		if _, err := v.Begin(context.Background(), "ldap:alice", bad); !errors.Is(err, identity.ErrInvalidInput) {
			t.Errorf("account %q: err = %v", bad, err)
		}
	}
}

func TestConfirm(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if res, err := f.v.Confirm(ctx, "ldap:alice", secret.New("123456")); res != identity.Expired || err != nil {
		t.Fatalf("Confirm without Begin = %v, %v", res, err)
	}
	e, err := f.v.Begin(ctx, "ldap:alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	good := code(t, e.Secret.Reveal(), f.clock.Now())
	wrong := secret.New(string(rune('0'+(good.Reveal()[0]-'0'+1)%10)) + good.Reveal()[1:])
	if res, err := f.v.Confirm(ctx, "ldap:alice", wrong); res != identity.Wrong || err != nil {
		t.Fatalf("wrong code: %v, %v", res, err)
	}
	if res, err := f.v.Confirm(ctx, "ldap:alice", good); res != identity.Verified || err != nil {
		t.Fatalf("right code: %v, %v", res, err)
	}
	if ok, err := f.v.Enrolled(ctx, "ldap:alice"); !ok || err != nil {
		t.Fatalf("Enrolled = %v, %v", ok, err)
	}
	if res, _ := f.v.Confirm(ctx, "ldap:alice", good); res != identity.Expired {
		t.Errorf("second Confirm = %v, want expired", res)
	}
	if res, _ := f.v.Verify(ctx, "ldap:alice", good); res != identity.Replayed {
		t.Errorf("Verify with the confirming code = %v, want replayed", res)
	}
}

func TestPendingExpires(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	e, err := f.v.Begin(ctx, "ldap:alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(totp.DefaultPendingTTL + time.Second)
	if res, err := f.v.Confirm(ctx, "ldap:alice", code(t, e.Secret.Reveal(), f.clock.Now())); res != identity.Expired || err != nil {
		t.Fatalf("Confirm after TTL = %v, %v", res, err)
	}
}

func TestWindow(t *testing.T) {
	tests := []struct {
		name  string
		steps int
		want  identity.Result
	}{
		{"t-2", -2, identity.Wrong},
		{"t-1", -1, identity.Verified},
		{"t", 0, identity.Verified},
		{"t+1", 1, identity.Verified},
		{"t+2", 2, identity.Wrong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			b32 := f.enroll(t, "ldap:alice")
			c := code(t, b32, f.clock.Now().Add(time.Duration(tt.steps)*30*time.Second))
			res, err := f.v.Verify(context.Background(), "ldap:alice", c)
			if err != nil || res != tt.want {
				t.Fatalf("Verify = %v, %v; want %v", res, err, tt.want)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b32 := f.enroll(t, "ldap:alice")
	now := f.clock.Now()
	check := func(at time.Time, want identity.Result) {
		t.Helper()
		res, err := f.v.Verify(ctx, "ldap:alice", code(t, b32, at))
		if err != nil || res != want {
			t.Fatalf("Verify(code at %v) = %v, %v; want %v", at.Sub(now), res, err, want)
		}
	}
	check(now, identity.Verified)
	check(now, identity.Replayed)
	// An older step is refused once a newer one was accepted.
	check(now.Add(-30*time.Second), identity.Replayed)
	// The next step passes once, even before its time comes (skew).
	check(now.Add(30*time.Second), identity.Verified)
	check(now.Add(30*time.Second), identity.Replayed)
	f.clock.Add(2 * 30 * time.Second)
	check(f.clock.Now(), identity.Verified)
}

func TestConcurrentSameCode(t *testing.T) {
	f := newFixture(t)
	b32 := f.enroll(t, "ldap:alice")
	c := code(t, b32, f.clock.Now())
	const n = 16
	results := make([]identity.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = f.v.Verify(context.Background(), "ldap:alice", c)
		})
	}
	close(start)
	wg.Wait()
	verified := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		switch results[i] {
		case identity.Verified:
			verified++
		case identity.Replayed:
		default:
			t.Errorf("goroutine %d: %v", i, results[i])
		}
	}
	if verified != 1 {
		t.Fatalf("%d submissions verified, want exactly 1", verified)
	}
}

func TestMalformedIsWrong(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b32 := f.enroll(t, "ldap:alice")
	good := code(t, b32, f.clock.Now()).Reveal()
	for _, in := range []string{"", "12345", "1234567", "abcdef", "12345x", "١٢٣٤٥٦", good + "0", "\x00\x00\x00\x00\x00\x00"} {
		t.Run(in, func(t *testing.T) {
			if res, err := f.v.Verify(ctx, "ldap:alice", secret.New(in)); res != identity.Wrong || err != nil {
				t.Errorf("Verify = %v, %v; want wrong, nil", res, err)
			}
		})
	}
	// Spaces and dashes as apps display them are accepted.
	spaced := good[:3] + " " + good[3:]
	if res, err := f.v.Verify(ctx, "ldap:alice", secret.New(spaced)); res != identity.Verified || err != nil {
		t.Errorf("spaced code = %v, %v", res, err)
	}
}

func TestNotEnrolledAndRevoke(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.v.Verify(ctx, "ldap:bob", secret.New("123456")); !errors.Is(err, identity.ErrNotEnrolled) {
		t.Fatalf("unknown user: err = %v", err)
	}
	b32 := f.enroll(t, "ldap:alice")
	if err := f.v.Revoke(ctx, "ldap:alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Verify(ctx, "ldap:alice", code(t, b32, f.clock.Now())); !errors.Is(err, identity.ErrNotEnrolled) {
		t.Fatalf("after Revoke: err = %v", err)
	}
	if ok, _ := f.v.Enrolled(ctx, "ldap:alice"); ok {
		t.Error("still enrolled after Revoke")
	}
	if err := f.v.Revoke(ctx, "ldap:alice"); err != nil {
		t.Errorf("second Revoke: %v", err)
	}
}

func TestSeedNotInStore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b32 := f.enroll(t, "ldap:alice")
	if res, _ := f.v.Verify(ctx, "ldap:alice", code(t, b32, f.clock.Now())); res != identity.Verified {
		t.Fatal("verify failed")
	}
	raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(b32)
	f.rec.AssertAbsent(t, b32, string(raw))
	for _, w := range f.rec.Writes() {
		if strings.HasPrefix(w.Key, "totp:step:") && w.TTL <= 0 {
			t.Errorf("replay record %q has no TTL", w.Key)
		}
	}
}

func TestSwappedCiphertextFails(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	aliceB32 := f.enroll(t, "ldap:alice")
	f.enroll(t, "ldap:bob")
	alice, err := f.mem.Get(ctx, "totp:seed:ldap:alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.mem.Set(ctx, "totp:seed:ldap:bob", alice.Value, 0); err != nil {
		t.Fatal(err)
	}
	res, err := f.v.Verify(ctx, "ldap:bob", code(t, aliceB32, f.clock.Now()))
	if res == identity.Verified || !errors.Is(err, crypt.ErrDecrypt) {
		t.Fatalf("Verify with alice's seed on bob = %v, %v; want ErrDecrypt", res, err)
	}
	if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(aliceB32)) {
		t.Error("error leaks the seed")
	}
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b32 := f.enroll(t, "ldap:alice")
	rotated := totp.New(f.rec, ring(t, "k2", "k1", "k2"), totp.Options{Issuer: "Acme", Clock: f.clock.Now})
	if res, err := rotated.Verify(ctx, "ldap:alice", code(t, b32, f.clock.Now())); res != identity.Verified || err != nil {
		t.Fatalf("Verify after rotation = %v, %v", res, err)
	}
	rec, err := f.mem.Get(ctx, "totp:seed:ldap:alice")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := f.kr.KeyID(rec.Value); id != "k2" {
		t.Errorf("seed still sealed under %q after a verify, want k2", id)
	}
}

func TestInvalidConfig(t *testing.T) {
	kr := ring(t, "k1", "k1")
	st := memory.New()
	tests := []struct {
		name string
		st   store.Store
		kr   *crypt.Keyring
		opts totp.Options
	}{
		{"digits 7", st, kr, totp.Options{Digits: 7}},
		{"issuer colon", st, kr, totp.Options{Issuer: "a:b"}},
		{"skew 3", st, kr, totp.Options{Skew: 3}},
		{"period 5", st, kr, totp.Options{Period: 5}},
		{"no keyring", st, nil, totp.Options{}},
		{"no store", nil, kr, totp.Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := totp.New(tt.st, tt.kr, tt.opts)
			if err := v.Validate(); !errors.Is(err, identity.ErrInvalidConfig) {
				t.Fatalf("Validate = %v", err)
			}
			if _, err := v.Verify(context.Background(), "ldap:alice", secret.New("123456")); !errors.Is(err, identity.ErrInvalidConfig) {
				t.Errorf("Verify err = %v", err)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b)
	b32 := f.enroll(b, "ldap:alice")
	now := f.clock.Now()
	step := 0
	for b.Loop() {
		// A fresh step every time so each iteration is a full accept, not a replay.
		step++
		f.clock.Set(now.Add(time.Duration(step) * 30 * time.Second))
		res, err := f.v.Verify(ctx, "ldap:alice", code(b, b32, f.clock.Now()))
		if err != nil || res != identity.Verified {
			b.Fatalf("Verify = %v, %v", res, err)
		}
	}
}

// TestReplaySameDelivery: a code accepted for one platform delivery is
// accepted again when that same delivery is retried (its turn's session was
// never saved after a failover), and stays a replay for another delivery, a
// plain Verify, another user's retry of the same delivery ID, and once a
// later step was accepted.
func TestReplaySameDelivery(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b32 := f.enroll(t, "ldap:alice")
	bob := f.enroll(t, "ldap:bob")
	now := f.clock.Now()
	check := func(user, b32 string, at time.Time, attempt string, want identity.Result) {
		t.Helper()
		res, err := f.v.VerifyAttempt(ctx, user, code(t, b32, at), attempt)
		if err != nil || res != want {
			t.Fatalf("VerifyAttempt(%s, code at %v, %q) = %v, %v; want %v", user, at.Sub(now), attempt, res, err, want)
		}
	}
	check("ldap:alice", b32, now, "Ev1", identity.Verified)
	check("ldap:alice", b32, now, "Ev1", identity.Verified)
	check("ldap:alice", b32, now, "Ev2", identity.Replayed)
	check("ldap:alice", b32, now, "", identity.Replayed)
	if res, _ := f.v.Verify(ctx, "ldap:alice", code(t, b32, now)); res != identity.Replayed {
		t.Fatalf("plain Verify after a tagged accept = %v, want Replayed", res)
	}
	// The same delivery with a wrong code is Wrong, never a free pass.
	wrong := secret.New("000000")
	if code(t, b32, now).Reveal() == "000000" {
		wrong = secret.New("111111")
	}
	if res, _ := f.v.VerifyAttempt(ctx, "ldap:alice", wrong, "Ev1"); res == identity.Verified {
		t.Fatal("the retried delivery with a wrong code was verified")
	}
	// An earlier step's code on the same delivery is still refused.
	check("ldap:alice", b32, now.Add(-30*time.Second), "Ev1", identity.Replayed)
	// Bob's record is his own: his first use of the same delivery ID passes once.
	check("ldap:bob", bob, now, "Ev1", identity.Verified)
	check("ldap:bob", bob, now, "Ev3", identity.Replayed)
	// Once a later step was accepted for another delivery, the old delivery's
	// retry is a replay: the record holds only the last step.
	check("ldap:alice", b32, now.Add(30*time.Second), "Ev4", identity.Verified)
	check("ldap:alice", b32, now, "Ev1", identity.Replayed)
	// The step record holds no delivery ID in clear.
	for _, k := range []string{"totp:step:ldap:alice", "totp:step:ldap:bob"} {
		r, err := f.mem.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(r.Value), "Ev") {
			t.Fatalf("%s holds a delivery ID in clear: %q", k, r.Value)
		}
	}
}

// TestConfirmSameDelivery: the delivery that confirmed an enrollment is
// Verified again when retried with the same code (its turn's commit lost);
// another delivery, a wrong code, or a plain Confirm find it consumed
// (Expired), and the confirming code stays a replay for Verify from any
// other delivery.
func TestConfirmSameDelivery(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	e, err := f.v.Begin(ctx, "ldap:alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	good := code(t, e.Secret.Reveal(), f.clock.Now())
	wrong := secret.New(string(rune('0'+(good.Reveal()[0]-'0'+1)%10)) + good.Reveal()[1:])
	for i := range 2 {
		if res, err := f.v.ConfirmAttempt(ctx, "ldap:alice", good, "Ev1"); res != identity.Verified || err != nil {
			t.Fatalf("confirm %d for the same delivery = %v, %v; want Verified", i, res, err)
		}
	}
	for _, c := range []struct {
		name    string
		code    secret.String
		attempt string
	}{{"another delivery", good, "Ev2"}, {"a wrong code", wrong, "Ev1"}, {"a plain Confirm", good, ""}} {
		if res, err := f.v.ConfirmAttempt(ctx, "ldap:alice", c.code, c.attempt); res != identity.Expired || err != nil {
			t.Fatalf("%s = %v, %v; want Expired", c.name, res, err)
		}
	}
	if res, _ := f.v.VerifyAttempt(ctx, "ldap:alice", good, "Ev2"); res != identity.Replayed {
		t.Fatalf("Verify of the confirming code from another delivery = %v, want Replayed", res)
	}
}
