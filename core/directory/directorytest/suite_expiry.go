package directorytest

import (
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
)

// expiryMaxAge and expiryWindow: Normal's fresh password expires in six
// days, inside a seven-day window and outside a five-day one.
const (
	expiryMaxAge = 6 * 24 * time.Hour
	expirySlack  = 10 * time.Minute
)

// testExpiry checks directory.ExpiryLister: the window bounds, the change
// time that names a password, and what is left out (disabled, must change).
func testExpiry(t *testing.T, in *Instance) {
	if in.SetMaxPasswordAge == nil {
		t.Skip("backend has no SetMaxPasswordAge hook")
	}
	l, ok := in.Dir.(directory.ExpiryLister)
	if !ok {
		t.Fatalf("%T has a SetMaxPasswordAge hook but is not a directory.ExpiryLister", in.Dir)
	}
	n := in.Fixtures.Normal
	u := findOne(t, in, directory.ByLogin, n.Login)
	if err := reset(t, in, u, pw("Expiry-Passw0rd-1"), directory.ResetOptions{}); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	// The user's own new password (the change flow): never "change it
	// again at next logon", whatever the policy does for administrators.
	if in.MustChange != nil {
		if must, err := in.MustChange(ctxT(t), u); err != nil || must {
			t.Fatalf("after ResetPassword(MustChange=false) from a clean account: must change = %v, %v", must, err)
		}
	}
	if err := in.SetMaxPasswordAge(ctxT(t), expiryMaxAge); err != nil {
		t.Fatalf("SetMaxPasswordAge: %v", err)
	}
	first := wantExpiring(t, l, 7*24*time.Hour, u, true)
	if d := time.Until(first.ExpiresAt) - expiryMaxAge; d > expirySlack || d < -expirySlack {
		t.Errorf("ExpiresAt = %v, want about six days from now", first.ExpiresAt)
	}
	if first.ChangedAt.IsZero() || first.ExpiresAt.Sub(first.ChangedAt) != expiryMaxAge {
		t.Errorf("ChangedAt = %v, ExpiresAt = %v: want ExpiresAt - ChangedAt = %v", first.ChangedAt, first.ExpiresAt, expiryMaxAge)
	}
	if !strings.EqualFold(first.User.Login, n.Login) || first.User.Email == "" {
		t.Errorf("listed user = %+v, want the whole directory.User of %s", first.User, n.Login)
	}
	wantExpiring(t, l, 5*24*time.Hour, u, false)
	if again := wantExpiring(t, l, 7*24*time.Hour, u, true); !again.ChangedAt.Equal(first.ChangedAt) {
		t.Errorf("ChangedAt moved between two reads: %v then %v", first.ChangedAt, again.ChangedAt)
	}
	if d := in.Fixtures.Disabled; d.Login != "" {
		wantExpiring(t, l, 7*24*time.Hour, findOne(t, in, directory.ByLogin, d.Login), false)
	}
	// A reset that forces a change at next logon: nothing to remind of.
	if err := reset(t, in, u, pw("Expiry-Passw0rd-2"), directory.ResetOptions{MustChange: true}); err != nil {
		t.Fatalf("ResetPassword(MustChange): %v", err)
	}
	wantExpiring(t, l, 7*24*time.Hour, u, false)
}

// wantExpiring lists the window and asserts whether u is in it, returning its entry.
func wantExpiring(t *testing.T, l directory.ExpiryLister, within time.Duration, u directory.User, want bool) directory.Expiry {
	t.Helper()
	list, err := l.ExpiringWithin(ctxT(t), within)
	if err != nil {
		t.Fatalf("ExpiringWithin(%v): %v", within, err)
	}
	var found []directory.Expiry
	for _, e := range list {
		if strings.EqualFold(e.User.ID, u.ID) {
			found = append(found, e)
		}
	}
	switch {
	case want && len(found) != 1:
		t.Fatalf("ExpiringWithin(%v) lists %s %d times, want once (list %+v)", within, u.Login, len(found), list)
	case !want && len(found) != 0:
		t.Fatalf("ExpiringWithin(%v) lists %s, want it left out", within, u.Login)
	case !want:
		return directory.Expiry{}
	}
	return found[0]
}
