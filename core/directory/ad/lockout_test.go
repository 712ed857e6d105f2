package ad_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestSambaLockoutsIncremental locks an account by failed binds on a real
// Samba AD DC and reads lockouts by uSNChanged: the first read is full and
// sees the fixture's lock, the next sees only the new one, and a cursor
// from another DC starts a full read again.
func TestSambaLockoutsIncremental(t *testing.T) {
	s := testserver.SambaDC(t)
	d := open(t, config(s))
	read := func(q directory.LockoutQuery) directory.LockoutRead {
		t.Helper()
		r, err := d.Lockouts(ctxT(t), q)
		if err != nil {
			t.Fatalf("Lockouts: %v", err)
		}
		return r
	}
	names := func(r directory.LockoutRead) map[string]bool {
		m := map[string]bool{}
		for _, l := range r.Lockouts {
			m[l.User.Login] = l.Admin
		}
		return m
	}
	first := read(directory.LockoutQuery{})
	if _, ok := names(first)[testserver.SambaLocked.Login]; !ok || !first.Full {
		t.Fatalf("first read = %v (full %v), want %s", names(first), first.Full, testserver.SambaLocked.Login)
	}
	s.Lock(t, testserver.SambaASmith)
	next := read(directory.LockoutQuery{Cursor: first.Cursor})
	got := names(next)
	if _, ok := got[testserver.SambaASmith.Login]; !ok || len(got) != 1 || next.Full {
		t.Fatalf("incremental read = %v (full %v, %d entries), want only %s", got, next.Full, next.Entries, testserver.SambaASmith.Login)
	}
	if again := read(directory.LockoutQuery{Cursor: next.Cursor}); len(again.Lockouts) != 0 || again.Entries != 0 {
		t.Fatalf("read with nothing new = %v (%d entries)", names(again), again.Entries)
	}
	if other := read(directory.LockoutQuery{Cursor: "CN=NTDS Settings,CN=OTHERDC|1"}); !other.Full {
		t.Fatal("a cursor from another DC was applied")
	}
}
