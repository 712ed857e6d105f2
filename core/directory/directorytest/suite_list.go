package directorytest

import (
	"errors"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
)

// testList: with a page size of 2 (so the paged search really pages), the
// listing holds every fixture account exactly once, each as Find sees it;
// fn's error stops the listing and comes back as is; and the directory
// lists again afterwards (the abandoned paged search left nothing behind).
func testList(t *testing.T, in *Instance) {
	l, ok := in.Dir.(directory.Lister)
	if !ok {
		t.Fatal("the directory does not implement directory.Lister (the adoption count needs it)")
	}
	seen := map[string]int{}
	logins := map[string]string{}
	pages := 0
	err := l.List(ctxT(t), 2, func(us []directory.User) error {
		pages++
		if len(us) > 2 {
			t.Errorf("page of %d users, want at most 2", len(us))
		}
		for _, u := range us {
			seen[u.ID]++
			logins[strings.ToLower(u.Login)] = u.ID
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", id, n)
		}
	}
	f := in.Fixtures
	for _, a := range []Account{f.Normal, f.Other, f.Locked, f.Disabled, f.Protected, f.Expired, f.AdminLocked, f.TooYoung} {
		if a.Login == "" {
			continue
		}
		id, ok := logins[strings.ToLower(a.Login)]
		if !ok {
			t.Errorf("%s is not listed", a.Login)
			continue
		}
		if u := findOne(t, in, directory.ByLogin, a.Login); u.ID != id {
			t.Errorf("%s listed as %q, found as %q", a.Login, id, u.ID)
		}
	}
	if pages < 3 {
		t.Errorf("%d pages for %d users at 2 a page", pages, len(seen))
	}

	stop := errors.New("enough")
	calls := 0
	err = l.List(ctxT(t), 2, func([]directory.User) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("List after fn's error = %v after %d calls, want fn's error after 1", err, calls)
	}
	again := 0
	if err := l.List(ctxT(t), 1000, func(us []directory.User) error { again += len(us); return nil }); err != nil || again != len(seen) {
		t.Fatalf("List again = %d users, %v; want %d", again, err, len(seen))
	}
}
