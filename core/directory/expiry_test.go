package directory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/memory"
)

// failingLister is a directory whose expiry listing fails.
type failingLister struct{ *memory.Directory }

func (failingLister) ExpiringWithin(context.Context, time.Duration) ([]directory.Expiry, error) {
	return nil, directory.ErrUnavailable
}

// plainDir has no expiry capability.
type plainDir struct{ directory.Directory }

// TestRouterExpiringWithin: each capable route lists its own accounts under
// its name; a route without the capability is skipped; a failing route is
// reported without hiding the others.
func TestRouterExpiringWithin(t *testing.T) {
	now := time.Now()
	a := acct("a1", "alice", "alice@a.example", "", "Alice-Passw0rd-1")
	a.PasswordChangedAt = now.Add(-25 * 24 * time.Hour)
	da := memory.New(a)
	da.SetMaxAge(30 * 24 * time.Hour)
	b := acct("b1", "bob", "bob@b.example", "", "Bob-Passw0rd-1")
	b.PasswordChangedAt = now.Add(-25 * 24 * time.Hour)
	db := memory.New(b)
	db.SetMaxAge(30 * 24 * time.Hour)
	r, err := directory.NewRouter(
		directory.Route{Name: "a", Dir: da},
		directory.Route{Name: "plain", Dir: plainDir{db}},
		directory.Route{Name: "broken", Dir: failingLister{db}},
	)
	if err != nil {
		t.Fatal(err)
	}
	list, err := r.ExpiringWithin(context.Background(), 7*24*time.Hour)
	if !errors.Is(err, directory.ErrUnavailable) {
		t.Errorf("err = %v, want the broken route's ErrUnavailable", err)
	}
	if len(list) != 1 || list[0].User.ID != "a1" || list[0].User.Directory != "a" {
		t.Fatalf("list = %+v, want alice of directory a only", list)
	}
}
