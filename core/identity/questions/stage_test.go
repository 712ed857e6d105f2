package questions_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/questions"
	"github.com/resetbot/resetbot/core/secret"
)

const pendingAlice = "questions:pending:ldap:alice"

// stage stages each answer of m in turn, as a conversation would.
func (f *fixture) stage(t testing.TB, user string, m map[string]secret.String) {
	t.Helper()
	for id, a := range m {
		if err := f.q.Stage(context.Background(), user, id, a); err != nil {
			t.Fatalf("Stage(%s): %v", id, err)
		}
	}
}

func TestStageCommitThenCheck(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{Ask: 2})
	f.stage(t, "ldap:alice", aliceAnswers)
	if ids, err := f.q.Staged(ctx, "ldap:alice"); err != nil || strings.Join(ids, ",") != "city,pet,year" {
		t.Fatalf("Staged = %v, %v", ids, err)
	}
	if ids, err := f.q.Enrolled(ctx, "ldap:alice"); ids != nil || err != nil {
		t.Fatalf("Enrolled before Commit = %v, %v", ids, err)
	}
	if err := f.q.Commit(ctx, "ldap:alice"); err != nil {
		t.Fatal(err)
	}
	if ids, err := f.q.Staged(ctx, "ldap:alice"); ids != nil || err != nil {
		t.Errorf("Staged after Commit = %v, %v", ids, err)
	}
	if ids, err := f.q.Enrolled(ctx, "ldap:alice"); err != nil || strings.Join(ids, ",") != "city,pet,year" {
		t.Fatalf("Enrolled = %v, %v", ids, err)
	}
	pick, err := f.q.Pick(ctx, "ldap:alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range pick {
		if res, err := f.q.Check(ctx, "ldap:alice", id, aliceAnswers[id]); res != identity.Verified || err != nil {
			t.Errorf("Check(%s) = %v, %v", id, res, err)
		}
	}
	// Verify (all at once) accepts a staged enrollment too.
	if res, err := f.q.Verify(ctx, "ldap:alice", aliceAnswers); res != identity.Verified || err != nil {
		t.Errorf("Verify = %v, %v", res, err)
	}
	f.rec.AssertAbsent(t, "fluffy", "paris", "1984", "argon2id")
}

func TestStageRefuses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{})
	if err := f.q.Stage(ctx, "ldap:alice", "pet", secret.New("Fluffy")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id, answer string
		want             error
	}{
		{"unknown", "color", "Sapphire", questions.ErrUnknownQuestion},
		{"too short", "city", " P  ", questions.ErrAnswerTooShort},
		{"not numeric", "year", "nineteen", questions.ErrNotNumeric},
		{"duplicate", "city", "  FLUFFY", questions.ErrDuplicateAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.q.Stage(ctx, "ldap:alice", tt.id, secret.New(tt.answer))
			if !errors.Is(err, tt.want) || !errors.Is(err, identity.ErrInvalidInput) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var ae *questions.AnswerError
			if !errors.As(err, &ae) || ae.QuestionID != tt.id {
				t.Errorf("err = %v, want an AnswerError for %q", err, tt.id)
			}
			if a := strings.ToLower(strings.TrimSpace(tt.answer)); len(a) > 1 && strings.Contains(strings.ToLower(err.Error()), a) {
				t.Errorf("error leaks the answer: %v", err)
			}
		})
	}
	if ids, _ := f.q.Staged(ctx, "ldap:alice"); strings.Join(ids, ",") != "pet" {
		t.Errorf("refused answers were staged: %v", ids)
	}
	// Answering the same question again replaces the answer, even with the same one.
	for _, a := range []string{"Fluffy", "Rex the dog"} {
		if err := f.q.Stage(ctx, "ldap:alice", "pet", secret.New(a)); err != nil {
			t.Fatalf("restaging pet: %v", err)
		}
	}
	if err := f.q.Stage(ctx, "ldap:alice", "city", secret.New("fluffy")); err != nil {
		t.Errorf("the replaced answer still counts as a duplicate: %v", err)
	}
}

func TestCommitTooFew(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{})
	tests := []struct {
		name    string
		answers map[string]secret.String
		staged  string
	}{
		{"nothing staged", nil, ""},
		{"two of three", answers("pet", "Fluffy", "city", "Paris"), "city,pet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.stage(t, "ldap:alice", tt.answers)
			if err := f.q.Commit(ctx, "ldap:alice"); !errors.Is(err, questions.ErrTooFewAnswers) {
				t.Fatalf("Commit = %v, want ErrTooFewAnswers", err)
			}
			// A refused Commit keeps what was staged.
			if ids, err := f.q.Staged(ctx, "ldap:alice"); err != nil || strings.Join(ids, ",") != tt.staged {
				t.Errorf("Staged after refused Commit = %v, %v", ids, err)
			}
			if ids, _ := f.q.Enrolled(ctx, "ldap:alice"); ids != nil {
				t.Errorf("refused Commit enrolled %v", ids)
			}
		})
	}
}

func TestPendingTTL(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{})
	f.stage(t, "ldap:alice", answers("pet", "Fluffy", "city", "Paris"))
	if ttl, err := f.mem.TTL(ctx, pendingAlice); err != nil || ttl != 15*time.Minute {
		t.Fatalf("pending TTL = %v, %v; want 15m", ttl, err)
	}
	// Each answer restarts the TTL.
	f.clk.Add(10 * time.Minute)
	f.stage(t, "ldap:alice", answers("year", "1984"))
	f.clk.Add(10 * time.Minute)
	if ids, _ := f.q.Staged(ctx, "ldap:alice"); len(ids) != 3 {
		t.Fatalf("Staged 10 minutes after the last answer = %v", ids)
	}
	f.clk.Add(5*time.Minute + time.Second)
	if ids, err := f.q.Staged(ctx, "ldap:alice"); ids != nil || err != nil {
		t.Errorf("Staged after the TTL = %v, %v", ids, err)
	}
	if err := f.q.Commit(ctx, "ldap:alice"); !errors.Is(err, questions.ErrTooFewAnswers) {
		t.Errorf("Commit after the TTL = %v", err)
	}
	for _, w := range f.rec.Writes() {
		if strings.HasPrefix(w.Key, "questions:pending:") && w.TTL != questions.PendingTTL {
			t.Errorf("pending write with TTL %v", w.TTL)
		}
	}
}

func TestStageReplacesEnrollmentAtCommit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{Ask: 3})
	f.enroll(t, "ldap:alice")
	if _, err := f.q.Pick(ctx, "ldap:alice"); err != nil {
		t.Fatal(err)
	}
	newAnswers := answers("pet", "Rex", "city", "Rome", "school", "Eton")
	f.stage(t, "ldap:alice", newAnswers)
	// Until Commit the old answers stand and the pick is untouched.
	if res, err := f.q.Check(ctx, "ldap:alice", "pet", secret.New("Fluffy")); res != identity.Verified || err != nil {
		t.Fatalf("old answer before Commit = %v, %v", res, err)
	}
	if res, _ := f.q.Check(ctx, "ldap:alice", "pet", secret.New("Rex")); res != identity.Wrong {
		t.Fatalf("staged answer counted before Commit: %v", res)
	}
	if err := f.q.Commit(ctx, "ldap:alice"); err != nil {
		t.Fatal(err)
	}
	if ids, err := f.q.Enrolled(ctx, "ldap:alice"); err != nil || strings.Join(ids, ",") != "city,pet,school" {
		t.Fatalf("Enrolled after Commit = %v, %v", ids, err)
	}
	// Commit reset the pick: the old one is gone, a new one covers the new answers.
	if res, _ := f.q.Check(ctx, "ldap:alice", "pet", secret.New("Rex")); res != identity.Expired {
		t.Fatalf("Check after Commit without Pick = %v, want expired", res)
	}
	pick, err := f.q.Pick(ctx, "ldap:alice")
	if err != nil || !slices.Equal(slices.Sorted(slices.Values(pick)), []string{"city", "pet", "school"}) {
		t.Fatalf("Pick after Commit = %v, %v", pick, err)
	}
	for id, a := range newAnswers {
		if res, _ := f.q.Check(ctx, "ldap:alice", id, a); res != identity.Verified {
			t.Errorf("new answer to %s = %v", id, res)
		}
	}
	if res, _ := f.q.Check(ctx, "ldap:alice", "pet", secret.New("Fluffy")); res != identity.Wrong {
		t.Errorf("old answer after Commit = %v", res)
	}
	f.rec.AssertAbsent(t, "fluffy", "paris", "1984", "rex", "rome", "eton", "argon2id")
}

func TestConcurrentCommit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{})
	f.stage(t, "ldap:alice", aliceAnswers)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f.q.Commit(ctx, "ldap:alice") })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, questions.ErrTooFewAnswers):
			t.Errorf("losing Commit: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d Commits won, want 1", won)
	}
	if ids, _ := f.q.Enrolled(ctx, "ldap:alice"); len(ids) != 3 {
		t.Errorf("Enrolled = %v", ids)
	}
}

func TestPendingRecordAtRest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{})
	f.stage(t, "ldap:alice", aliceAnswers)
	f.rec.AssertAbsent(t, "fluffy", "paris", "1984", "argon2id")
	rec, err := f.mem.Get(ctx, pendingAlice)
	if err != nil {
		t.Fatal(err)
	}
	// A pending record copied over the enrollment does not open: it cannot
	// skip Commit's checks.
	if _, err := f.mem.Set(ctx, "questions:enrollment:ldap:alice", rec.Value, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.q.Pick(ctx, "ldap:alice"); !errors.Is(err, crypt.ErrDecrypt) {
		t.Errorf("pending record as enrollment: %v, want ErrDecrypt", err)
	}
	// Nor does another user's pending record.
	if _, err := f.mem.Set(ctx, "questions:pending:ldap:bob", rec.Value, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := f.q.Staged(ctx, "ldap:bob"); !errors.Is(err, crypt.ErrDecrypt) {
		t.Errorf("alice's pending record as bob's: %v, want ErrDecrypt", err)
	}
	// Revoke drops the pending enrollment too.
	if err := f.q.Revoke(ctx, "ldap:alice"); err != nil {
		t.Fatal(err)
	}
	if ids, err := f.q.Staged(ctx, "ldap:alice"); ids != nil || err != nil {
		t.Errorf("Staged after Revoke = %v, %v", ids, err)
	}
}

func TestStageErrors(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{MaxConcurrentHashes: 1})
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := f.q.Stage(cancelled, "ldap:alice", "pet", secret.New("Fluffy")); !errors.Is(err, context.Canceled) {
		t.Errorf("Stage with a cancelled context: %v", err)
	}
	if err := f.q.Stage(ctx, "", "pet", secret.New("Fluffy")); !errors.Is(err, identity.ErrInvalidInput) {
		t.Errorf("Stage with no user: %v", err)
	}
	bad := questions.New(f.mem, f.kr, questions.Options{Argon2: small})
	for name, err := range map[string]error{
		"Stage":  bad.Stage(ctx, "ldap:alice", "pet", secret.New("Fluffy")),
		"Commit": bad.Commit(ctx, "ldap:alice"),
	} {
		if !errors.Is(err, identity.ErrInvalidConfig) {
			t.Errorf("%s with invalid options: %v", name, err)
		}
	}
	if _, err := bad.Staged(ctx, "ldap:alice"); !errors.Is(err, identity.ErrInvalidConfig) {
		t.Errorf("Staged with invalid options: %v", err)
	}
}
