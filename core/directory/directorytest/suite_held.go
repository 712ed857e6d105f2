package directorytest

import (
	"errors"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
)

// testHeld proves that self-service never undoes an administrator's
// decision: Unlock and ResetPassword of a disabled, expired or
// administratively locked account are refused with *HeldError naming the
// hold, and the account is still held afterwards.
func testHeld(t *testing.T, in *Instance) {
	f := in.Fixtures
	cases := []struct {
		name string
		acct Account
		want directory.Hold
	}{
		{"disabled", f.Disabled, directory.HoldDisabled},
		{"expired", f.Expired, directory.HoldExpired},
		{"admin locked", f.AdminLocked, directory.HoldAdminLocked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.acct.Login == "" {
				t.Skip("no fixture")
			}
			wantHeld(t, in, findOne(t, in, directory.ByLogin, tc.acct.Login), tc.want)
		})
	}
	t.Run("set on a normal account", func(t *testing.T) {
		if in.SetHeld == nil {
			t.Fatal("directorytest: Instance.SetHeld is nil")
		}
		n := in.Fixtures.Normal
		u := findOne(t, in, directory.ByLogin, n.Login)
		want, err := in.SetHeld(ctxT(t), u)
		if err != nil {
			t.Fatalf("SetHeld: %v", err)
		}
		wantHeld(t, in, u, want)
		mustBind(t, in, n.Login, n.Password, false)
	})
}

// wantHeld asserts that u is held by want and that neither Unlock nor
// ResetPassword changes that.
func wantHeld(t *testing.T, in *Instance, u directory.User, want directory.Hold) {
	t.Helper()
	st, err := in.Dir.Status(ctxT(t), u)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if st.Hold() != want {
		t.Fatalf("Status = %+v, Hold() = %q, want %q", st, st.Hold(), want)
	}
	checkHeld := func(op string, err error) {
		t.Helper()
		var he *directory.HeldError
		if !errors.As(err, &he) || !errors.Is(err, directory.ErrHeld) {
			t.Errorf("%s = %v, want *HeldError(%s)", op, err, want)
			return
		}
		if he.Hold != want {
			t.Errorf("%s: Hold = %q, want %q", op, he.Hold, want)
		}
	}
	checkHeld("Unlock", in.Dir.Unlock(ctxT(t), u))
	p := pw("Held-Account-Passw0rd-3")
	checkHeld("ResetPassword", reset(t, in, u, p, directory.ResetOptions{}))
	after, err := in.Dir.Status(ctxT(t), u)
	if err != nil {
		t.Fatalf("Status after the refused writes: %v", err)
	}
	if after.Hold() != want || after.Locked != st.Locked {
		t.Errorf("Status after the refused writes = %+v, was %+v", after, st)
	}
	mustBind(t, in, u.Login, p, false)
}
