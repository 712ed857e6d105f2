package ldap_test

import (
	"context"
	"errors"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/internal/testserver"
)

// lockByBinds fails u's bind until ppolicy locks the account (pwdMaxFailure 5).
func lockByBinds(t *testing.T, s *testserver.SlapdServer, u testserver.SlapdUser) {
	t.Helper()
	for range 6 {
		c, err := rawConn(s, u.DN(), "wrong-"+u.Password)
		if err == nil {
			c.Close()
			t.Fatalf("bind as %s with a wrong password succeeded", u.Login)
		}
		var le *goldap.Error
		if !errors.As(err, &le) || le.ResultCode != goldap.LDAPResultInvalidCredentials {
			t.Fatalf("bind as %s: %v", u.Login, err)
		}
	}
}

func lockouts(t *testing.T, src directory.LockoutSource, q directory.LockoutQuery) directory.LockoutRead {
	t.Helper()
	r, err := src.Lockouts(context.Background(), q)
	if err != nil {
		t.Fatalf("Lockouts: %v", err)
	}
	return r
}

func logins(r directory.LockoutRead) map[string]bool {
	m := map[string]bool{}
	for _, l := range r.Lockouts {
		m[l.User.Login] = l.Admin
	}
	return m
}

// TestLockoutsIncremental locks accounts with bad binds on a real slapd
// and reads them back incrementally: the first read sees the fixture's
// locks (the administrator's marked Admin), the next only the new lock.
func TestLockoutsIncremental(t *testing.T) {
	s := testserver.Slapd(t)
	d := open(t, config(s))
	first := lockouts(t, d, directory.LockoutQuery{})
	got := logins(first)
	if admin, ok := got["carol"]; !ok || admin {
		t.Fatalf("first read = %v, want carol locked by binds", got)
	}
	var adminLogin string
	for _, u := range testserver.SlapdUsers {
		if u.AdminLocked {
			adminLogin = u.Login
		}
	}
	if !got[adminLogin] {
		t.Fatalf("first read = %v, want %s marked Admin", got, adminLogin)
	}
	if !first.Full || first.Cursor == "" {
		t.Fatalf("first read Full=%v Cursor=%q", first.Full, first.Cursor)
	}
	lockByBinds(t, s, testserver.SlapdUsers[0]) // alice
	next := lockouts(t, d, directory.LockoutQuery{Cursor: first.Cursor})
	if _, ok := logins(next)["alice"]; !ok || next.Full {
		t.Fatalf("incremental read = %v (full %v), want alice", logins(next), next.Full)
	}
	// The read overlaps by the cursor's second only: an older lock (in
	// the fixture it may share alice's second) never comes back.
	assertSince(t, next, first.Cursor)
	assertSince(t, lockouts(t, d, directory.LockoutQuery{Cursor: next.Cursor}), next.Cursor)
}

func assertSince(t *testing.T, r directory.LockoutRead, cursor string) {
	t.Helper()
	c, err := time.Parse("20060102150405Z", cursor)
	if err != nil {
		t.Fatalf("cursor %q: %v", cursor, err)
	}
	for _, l := range r.Lockouts {
		if l.Admin || l.At.Before(c) {
			t.Fatalf("read from %s returned %s locked at %v (admin %v)", cursor, l.User.Login, l.At, l.Admin)
		}
	}
}
