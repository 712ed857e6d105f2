package ldap_test

import (
	"context"
	"errors"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestProtectedFilter: an account protected_filter matches is reported
// protected and never unlocked or reset; one it does not match is not.
func TestProtectedFilter(t *testing.T) {
	s := testserver.Slapd(t)
	target, other := testserver.SlapdUsers[0], testserver.SlapdUsers[1]
	cfg := config(s)
	cfg.ProtectedFilter = "(uid=" + target.Login + ")"
	d := open(t, cfg)
	ctx := context.Background()
	find := func(login string) directory.User {
		us, err := d.Find(ctx, directory.ByLogin, login)
		if err != nil || len(us) != 1 {
			t.Fatalf("Find(%s) = %v, %v", login, us, err)
		}
		return us[0]
	}
	u := find(target.Login)
	st, err := d.Status(ctx, u)
	if err != nil || !st.Protected {
		t.Fatalf("Status(%s) = %+v, %v; want protected", target.Login, st, err)
	}
	if err := d.Unlock(ctx, u); !errors.Is(err, directory.ErrProtected) {
		t.Errorf("Unlock of a protected_filter match: %v; want ErrProtected", err)
	}
	if st, err := d.Status(ctx, find(other.Login)); err != nil || st.Protected {
		t.Errorf("Status(%s) = %+v, %v; want not protected", other.Login, st, err)
	}
}
