package questions_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/questions"
	"github.com/resetbot/resetbot/core/secret"
)

// unpicked returns the enrolled id of aliceAnswers that is not in pick.
func unpicked(t *testing.T, pick []string) string {
	t.Helper()
	for _, id := range []string{"pet", "city", "year"} {
		if !slices.Contains(pick, id) {
			return id
		}
	}
	t.Fatalf("pick %v holds every enrolled id", pick)
	return ""
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{Ask: 2})
	f.enroll(t, "ldap:alice")
	if res, err := f.q.Check(ctx, "ldap:alice", "pet", secret.New("Fluffy")); res != identity.Expired || err != nil {
		t.Fatalf("Check before Pick = %v, %v; want expired", res, err)
	}
	pick, err := f.q.Pick(ctx, "ldap:alice")
	if err != nil {
		t.Fatal(err)
	}
	out := unpicked(t, pick)
	tests := []struct {
		name   string
		id     string
		answer string
		want   identity.Result
	}{
		{"right", pick[0], aliceAnswers[pick[0]].Reveal(), identity.Verified},
		{"right normalised", pick[1], "  " + aliceAnswers[pick[1]].Reveal() + " ", identity.Verified},
		{"wrong", pick[0], "Rex9", identity.Wrong},
		{"empty", pick[1], "", identity.Wrong},
		{"malformed", pick[0], "\x00\xff", identity.Wrong},
		{"enrolled, not in pick", out, aliceAnswers[out].Reveal(), identity.Expired},
		{"not enrolled", "school", "Eton", identity.Expired},
		{"not in catalog", "color", "blue", identity.Expired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := f.q.Check(ctx, "ldap:alice", tt.id, secret.New(tt.answer))
			if err != nil || res != tt.want {
				t.Fatalf("Check(%s) = %v, %v; want %v", tt.id, res, err, tt.want)
			}
		})
	}
	// Neither a right nor a wrong answer consumed the pick.
	again, err := f.q.Pick(ctx, "ldap:alice")
	if err != nil || !slices.Equal(again, pick) {
		t.Fatalf("Pick after Check = %v, %v; want %v", again, err, pick)
	}
	if res, _ := f.q.Check(ctx, "ldap:alice", pick[0], aliceAnswers[pick[0]]); res != identity.Verified {
		t.Fatalf("second Check of the right answer = %v", res)
	}
	f.rec.AssertAbsent(t, "fluffy", "paris", "1984", "rex9", "eton", "argon2id")
}

func TestCompleteClearsPick(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{Ask: 2})
	f.enroll(t, "ldap:alice")
	pick, err := f.q.Pick(ctx, "ldap:alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range pick {
		if res, err := f.q.Check(ctx, "ldap:alice", id, aliceAnswers[id]); res != identity.Verified || err != nil {
			t.Fatalf("Check(%s) = %v, %v", id, res, err)
		}
	}
	if err := f.q.Complete(ctx, "ldap:alice"); err != nil {
		t.Fatal(err)
	}
	for _, id := range pick {
		if res, err := f.q.Check(ctx, "ldap:alice", id, aliceAnswers[id]); res != identity.Expired || err != nil {
			t.Errorf("Check(%s) after Complete = %v, %v; want expired", id, res, err)
		}
	}
	if res, err := f.q.Verify(ctx, "ldap:alice", aliceAnswers); res != identity.Expired || err != nil {
		t.Errorf("Verify after Complete = %v, %v; want expired", res, err)
	}
	if p, err := f.q.Pick(ctx, "ldap:alice"); err != nil || len(p) != 2 {
		t.Errorf("Pick after Complete = %v, %v", p, err)
	}
	// Completing without a pick is harmless.
	if err := f.q.Complete(ctx, "ldap:bob"); err != nil {
		t.Errorf("Complete without a pick: %v", err)
	}
}

func TestCheckErrors(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, questions.Options{Ask: 2, MaxConcurrentHashes: 1})
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	f.enroll(t, "ldap:alice")
	if _, err := f.q.Pick(ctx, "ldap:alice"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ctx  context.Context
		user string
		want error
	}{
		{"not enrolled", ctx, "ldap:bob", identity.ErrNotEnrolled},
		{"empty user", ctx, "", identity.ErrInvalidInput},
		{"cancelled", cancelled, "ldap:alice", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := f.q.Check(tt.ctx, tt.user, "pet", secret.New("Fluffy"))
			if !errors.Is(err, tt.want) || res != identity.Wrong {
				t.Fatalf("Check = %v, %v; want wrong, %v", res, err, tt.want)
			}
		})
	}
	bad := questions.New(f.mem, f.kr, questions.Options{Argon2: small})
	if _, err := bad.Check(ctx, "ldap:alice", "pet", secret.New("Fluffy")); !errors.Is(err, identity.ErrInvalidConfig) {
		t.Errorf("Check with invalid options: %v", err)
	}
	if err := bad.Complete(ctx, "ldap:alice"); !errors.Is(err, identity.ErrInvalidConfig) {
		t.Errorf("Complete with invalid options: %v", err)
	}
}
