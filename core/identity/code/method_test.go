package code_test

import (
	"context"
	"testing"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/code"
	"github.com/resetbot/resetbot/core/secret"
)

type courier struct{ got []identity.Delivery }

func (c *courier) Deliver(_ context.Context, d identity.Delivery) error {
	c.got = append(c.got, d)
	return nil
}

// TestMethodsGoOnlyToDestinationsOfRecord: SMS and voice go to the mobile,
// email only to the personal address; with none (or nobody) a challenge is
// issued and nothing is sent.
func TestMethodsGoOnlyToDestinationsOfRecord(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, code.Options{})
	sub := identity.Subject{Key: "d:1", Login: "amartin", Mobile: "+15555550101", RecoveryEmail: "alice@personal.example"}
	for _, tc := range []struct {
		m    *code.Method
		to   string
		grp  identity.Group
		str  identity.Strength
		none identity.Subject
	}{
		{code.SMS(f.c), sub.Mobile, identity.GroupPhone, identity.StrengthPhone, identity.Subject{Key: "d:2"}},
		{code.Voice(f.c), sub.Mobile, identity.GroupPhone, identity.StrengthPhone, identity.Subject{Key: "d:2"}},
		{code.Email(f.c), sub.RecoveryEmail, identity.GroupEmail, identity.StrengthEmail, identity.Subject{Key: "d:2", Mobile: "+15555550102"}},
	} {
		t.Run(string(tc.m.Factor()), func(t *testing.T) {
			if tc.m.Group() != tc.grp || tc.m.Strength() != tc.str || tc.m.Destination(sub) != tc.to {
				t.Fatalf("declares %s/%s to %q", tc.m.Group(), tc.m.Strength(), tc.m.Destination(sub))
			}
			c := &courier{}
			ch := identity.Challenge{Key: "s1|d:1|" + string(tc.m.Factor()), Subject: sub, Courier: c}
			p, err := tc.m.Challenge(ctx, ch)
			if err != nil || p.Digits != 6 || len(c.got) != 1 || c.got[0].To != tc.to || c.got[0].Code.Empty() {
				t.Fatalf("challenge: %+v %v %+v", p, err, c.got)
			}
			if res, err := tc.m.Verify(ctx, ch, c.got[0].Code); err != nil || res != identity.Verified {
				t.Fatalf("verify: %v %v", res, err)
			}
			for _, s := range []identity.Subject{tc.none, {}} {
				if has, _ := tc.m.Has(ctx, s); has {
					t.Fatalf("%+v has %s", s, tc.m.Factor())
				}
				c := &courier{}
				ch := identity.Challenge{Key: "s2|" + s.Key + "|" + string(tc.m.Factor()), Subject: s, Courier: c}
				if _, err := tc.m.Challenge(ctx, ch); err != nil || len(c.got) != 0 {
					t.Fatalf("sent without a destination: %v %+v", err, c.got)
				}
				if res, _ := tc.m.Verify(ctx, ch, secret.New("123456")); res == identity.Verified {
					t.Fatal("verified without a destination")
				}
			}
		})
	}
}
