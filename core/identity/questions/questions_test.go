package questions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/internal/identitytest"
	"github.com/resetbot/resetbot/core/identity/questions"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store/memory"
)

var catalog = []questions.Question{
	{ID: "pet", MessageID: "questions.pet"},
	{ID: "city", MessageID: "questions.city"},
	{ID: "school", MessageID: "questions.school"},
	{ID: "year", MessageID: "questions.year", Numeric: true},
}

// small keeps tests fast; the benchmark uses the defaults.
var small = questions.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

type fixture struct {
	q   *questions.Questions
	kr  *crypt.Keyring
	mem *memory.Store
	rec *identitytest.Recorder
	clk *identitytest.Clock
}

func newFixture(t testing.TB, opts questions.Options) *fixture {
	t.Helper()
	kr, err := crypt.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{9}, crypt.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	clk := identitytest.NewClock(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	f := &fixture{kr: kr, mem: memory.New(memory.WithClock(clk.Now)), clk: clk}
	f.rec = identitytest.NewRecorder(f.mem)
	if opts.Catalog == nil {
		opts.Catalog = catalog
	}
	if opts.Argon2 == (questions.Argon2Params{}) {
		opts.Argon2 = small
	}
	f.q = questions.New(f.rec, kr, opts)
	if err := f.q.Validate(); err != nil {
		t.Fatal(err)
	}
	return f
}

func answers(kv ...string) map[string]secret.String {
	m := map[string]secret.String{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = secret.New(kv[i+1])
	}
	return m
}

var aliceAnswers = answers("pet", "Fluffy", "city", "Paris", "year", "1984")

func (f *fixture) enroll(t testing.TB, user string) {
	t.Helper()
	if err := f.q.Enroll(context.Background(), user, aliceAnswers); err != nil {
		t.Fatal(err)
	}
}

func TestEnrollAndVerify(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{Ask: 3})
	f.enroll(t, "ldap:alice")
	ids, err := f.q.Enrolled(ctx, "ldap:alice")
	if err != nil || strings.Join(ids, ",") != "city,pet,year" {
		t.Fatalf("Enrolled = %v, %v", ids, err)
	}
	pick, err := f.q.Pick(ctx, "ldap:alice")
	if err != nil || len(pick) != 3 {
		t.Fatalf("Pick = %v, %v", pick, err)
	}
	tests := []struct {
		name    string
		answers map[string]secret.String
		want    identity.Result
	}{
		{"one wrong", answers("pet", "fluffy", "city", "London", "year", "1984"), identity.Wrong},
		{"one missing", answers("pet", "fluffy", "city", "paris"), identity.Wrong},
		{"all wrong", answers("pet", "rex", "city", "rome", "year", "1999"), identity.Wrong},
		{"normalised", answers("pet", "  Fluffy ", "city", "PARIS", "year", "19 84"), identity.Verified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := f.q.Verify(ctx, "ldap:alice", tt.answers)
			if err != nil || res != tt.want {
				t.Fatalf("Verify = %v, %v; want %v", res, err, tt.want)
			}
		})
	}
	// The pick was used up: without a new Pick there is no live challenge.
	if res, err := f.q.Verify(ctx, "ldap:alice", aliceAnswers); res != identity.Expired || err != nil {
		t.Fatalf("Verify after success = %v, %v; want expired", res, err)
	}
}

func TestPickIsSticky(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{Ask: 2})
	f.enroll(t, "ldap:alice")
	first, err := f.q.Pick(ctx, "ldap:alice")
	if err != nil || len(first) != 2 || first[0] == first[1] {
		t.Fatalf("Pick = %v, %v", first, err)
	}
	for range 5 {
		if res, _ := f.q.Verify(ctx, "ldap:alice", answers("pet", "x", "city", "y", "year", "0")); res != identity.Wrong {
			t.Fatal("wrong answers verified")
		}
		again, err := f.q.Pick(ctx, "ldap:alice")
		if err != nil || strings.Join(again, ",") != strings.Join(first, ",") {
			t.Fatalf("Pick after a wrong answer = %v, want %v", again, first)
		}
	}
	// Answers to questions outside the pick are ignored.
	if res, _ := f.q.Verify(ctx, "ldap:alice", aliceAnswers); res != identity.Verified {
		t.Fatal("right answers not verified")
	}
}

func TestPickCoversAllQuestions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{Ask: 1})
	f.enroll(t, "ldap:alice")
	seen := map[string]bool{}
	for range 200 {
		p, err := f.q.Pick(ctx, "ldap:alice")
		if err != nil {
			t.Fatal(err)
		}
		seen[p[0]] = true
		if res, _ := f.q.Verify(ctx, "ldap:alice", aliceAnswers); res != identity.Verified {
			t.Fatal("not verified")
		}
	}
	if len(seen) != 3 {
		t.Errorf("200 picks drew only %v", seen)
	}
}

func TestEnrollRefuses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{})
	tests := []struct {
		name    string
		answers map[string]secret.String
		want    error
		id      string
	}{
		{"too few", answers("pet", "Fluffy", "city", "Paris"), questions.ErrTooFewAnswers, ""},
		{"unknown", answers("pet", "Fluffy", "city", "Paris", "color", "Sapphire"), questions.ErrUnknownQuestion, "color"},
		{"too short", answers("pet", " F  ", "city", "Paris", "year", "1984"), questions.ErrAnswerTooShort, "pet"},
		{"not numeric", answers("pet", "Fluffy", "city", "Paris", "year", "nineteen"), questions.ErrNotNumeric, "year"},
		{"duplicate", answers("pet", "Fluffy", "city", "FLUFFY", "school", "Eton"), questions.ErrDuplicateAnswer, "pet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.q.Enroll(ctx, "ldap:alice", tt.answers)
			if !errors.Is(err, tt.want) || !errors.Is(err, identity.ErrInvalidInput) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var ae *questions.AnswerError
			if tt.id != "" && (!errors.As(err, &ae) || (ae.QuestionID != tt.id && tt.want != questions.ErrDuplicateAnswer)) {
				t.Errorf("err = %v, want an AnswerError for %q", err, tt.id)
			}
			for _, a := range tt.answers {
				if len(strings.TrimSpace(a.Reveal())) > 1 && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(a.Reveal())) {
					t.Errorf("error leaks an answer: %v", err)
				}
			}
		})
	}
	if ids, err := f.q.Enrolled(ctx, "ldap:alice"); ids != nil || err != nil {
		t.Errorf("refused enrollment stored something: %v, %v", ids, err)
	}
}

func TestRecordAtRest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{})
	f.enroll(t, "ldap:alice")
	if _, err := f.q.Pick(ctx, "ldap:alice"); err != nil {
		t.Fatal(err)
	}
	if res, _ := f.q.Verify(ctx, "ldap:alice", aliceAnswers); res != identity.Verified {
		t.Fatal("not verified")
	}
	// Nothing readable in any write: no answer, not even the hash format.
	f.rec.AssertAbsent(t, "fluffy", "paris", "1984", "argon2id")

	rec, err := f.mem.Get(ctx, "questions:enrollment:ldap:alice")
	if err != nil {
		t.Fatal(err)
	}
	pt, err := f.kr.Open(rec.Value, []byte("questions\x00ldap:alice"))
	if err != nil {
		t.Fatal(err)
	}
	var inner struct{ Answers map[string]string }
	if err := json.Unmarshal(pt, &inner); err != nil {
		t.Fatal(err)
	}
	salts := map[string]bool{}
	for id, phc := range inner.Answers {
		if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Count(phc, "$") != 5 {
			t.Errorf("%s: %q is not an argon2id PHC string", id, phc)
		}
		salts[strings.Split(phc, "$")[4]] = true
	}
	if len(salts) != 3 {
		t.Errorf("salts are not per answer: %d distinct of 3", len(salts))
	}

	// Another user's record copied over bob's does not open.
	if _, err := f.mem.Set(ctx, "questions:enrollment:ldap:bob", rec.Value, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.q.Pick(ctx, "ldap:bob"); !errors.Is(err, crypt.ErrDecrypt) {
		t.Errorf("swapped record: err = %v, want ErrDecrypt", err)
	}
}

func TestNotEnrolledAndRevoke(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{})
	if _, err := f.q.Pick(ctx, "ldap:alice"); !errors.Is(err, identity.ErrNotEnrolled) {
		t.Errorf("Pick: %v", err)
	}
	if _, err := f.q.Verify(ctx, "ldap:alice", aliceAnswers); !errors.Is(err, identity.ErrNotEnrolled) {
		t.Errorf("Verify: %v", err)
	}
	f.enroll(t, "ldap:alice")
	if _, err := f.q.Pick(ctx, "ldap:alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.q.Revoke(ctx, "ldap:alice"); err != nil {
		t.Fatal(err)
	}
	if ids, err := f.q.Enrolled(ctx, "ldap:alice"); ids != nil || err != nil {
		t.Errorf("Enrolled after Revoke = %v, %v", ids, err)
	}
	if _, err := f.q.Verify(ctx, "ldap:alice", aliceAnswers); !errors.Is(err, identity.ErrNotEnrolled) {
		t.Errorf("Verify after Revoke: %v", err)
	}
}

func TestCatalogShrinks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{Ask: 3})
	f.enroll(t, "ldap:alice")
	// The operator drops "city": alice has two askable answers, fewer than Ask.
	q2 := questions.New(f.rec, f.kr, questions.Options{Catalog: []questions.Question{catalog[0], catalog[2], catalog[3]}, Ask: 3, Argon2: small})
	if _, err := q2.Pick(ctx, "ldap:alice"); !errors.Is(err, identity.ErrNotEnrolled) {
		t.Errorf("Pick with too few askable answers: %v", err)
	}
}

func TestInvalidConfig(t *testing.T) {
	kr, _ := crypt.NewKeyring("k1", map[string][]byte{"k1": make([]byte, crypt.KeySize)})
	st := memory.New()
	tests := []struct {
		name string
		opts questions.Options
	}{
		{"empty catalog", questions.Options{Argon2: small}},
		{"ask above min", questions.Options{Catalog: catalog, Ask: 3, MinEnrolled: 2, Argon2: small}},
		{"min above catalog", questions.Options{Catalog: catalog, MinEnrolled: 5, Argon2: small}},
		{"duplicate id", questions.Options{Catalog: append([]questions.Question{catalog[0]}, catalog...), Argon2: small}},
		{"short salt", questions.Options{Catalog: catalog, Argon2: questions.Argon2Params{SaltLen: 8}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := questions.New(st, kr, tt.opts)
			if err := q.Validate(); !errors.Is(err, identity.ErrInvalidConfig) {
				t.Fatalf("Validate = %v", err)
			}
			if err := q.Enroll(context.Background(), "ldap:alice", aliceAnswers); !errors.Is(err, identity.ErrInvalidConfig) {
				t.Errorf("Enroll err = %v", err)
			}
		})
	}
}

func benchmarkVerify(b *testing.B, p questions.Argon2Params) {
	ctx := context.Background()
	f := newFixture(b, questions.Options{Ask: 2, Argon2: p})
	f.enroll(b, "ldap:alice")
	for b.Loop() {
		if _, err := f.q.Pick(ctx, "ldap:alice"); err != nil {
			b.Fatal(err)
		}
		if res, err := f.q.Verify(ctx, "ldap:alice", aliceAnswers); res != identity.Verified || err != nil {
			b.Fatalf("Verify = %v, %v", res, err)
		}
	}
}

// BenchmarkVerify measures Pick + Verify of two answers at the production costs
// (Argon2id t=3, 64 MiB, p=2, per answer).
func BenchmarkVerify(b *testing.B) { benchmarkVerify(b, questions.DefaultArgon2) }

// BenchmarkVerifySmall is the same at the test costs, to show the overhead
// around the hashing.
func BenchmarkVerifySmall(b *testing.B) { benchmarkVerify(b, small) }

func TestConcurrentVerify(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{Ask: 2, MaxConcurrentHashes: 1})
	f.enroll(t, "ldap:alice")
	if _, err := f.q.Pick(ctx, "ldap:alice"); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := f.q.Verify(ctx, "ldap:alice", answers("pet", "x", "city", "y", "year", "0"))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.q.Verify(cancelled, "ldap:alice", aliceAnswers); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled context: %v", err)
	}
}
