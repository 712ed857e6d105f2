package directorytest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
)

// Run runs the conformance suite against the backend described by h.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("directorytest: Harness.New is nil")
	}
	t.Run("ReadOnly", func(t *testing.T) {
		in := h.New(t)
		t.Run("FindByEachKey", func(t *testing.T) { testFindByEachKey(t, in) })
		t.Run("FindCaseInsensitive", func(t *testing.T) { testFindCaseInsensitive(t, in) })
		t.Run("FindNotFound", func(t *testing.T) { testFindNotFound(t, in) })
		t.Run("FindInjection", func(t *testing.T) { testFindInjection(t, in) })
		t.Run("FindShared", func(t *testing.T) { testFindShared(t, in) })
		t.Run("Status", func(t *testing.T) { testStatus(t, in) })
		t.Run("NotFound", func(t *testing.T) { testNotFound(t, in) })
		t.Run("TooYoung", func(t *testing.T) { testTooYoung(t, h, in) })
		t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, in) })
		t.Run("Cancelled", func(t *testing.T) { testCancelled(t, in) })
		t.Run("List", func(t *testing.T) { testList(t, in) })
	})
	t.Run("Reset", func(t *testing.T) { testReset(t, h.New(t)) })
	t.Run("MustChange", func(t *testing.T) { testMustChange(t, h.New(t)) })
	t.Run("Refused", func(t *testing.T) { testRefused(t, h, h.New(t)) })
	t.Run("Unlock", func(t *testing.T) { testUnlock(t, h.New(t)) })
	t.Run("Held", func(t *testing.T) { testHeld(t, h.New(t)) })
	t.Run("Protected", func(t *testing.T) { testProtected(t, h.New(t)) })
	t.Run("UnicodePassword", func(t *testing.T) { testUnicode(t, h.New(t)) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, h.New(t)) })
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// findOne finds exactly one user or fails the test.
func findOne(t *testing.T, in *Instance, key directory.Key, value string) directory.User {
	t.Helper()
	users, err := in.Dir.Find(ctxT(t), key, value)
	if err != nil {
		t.Fatalf("Find(%s, %q): %v", key, value, err)
	}
	if len(users) != 1 {
		t.Fatalf("Find(%s, %q) = %d users, want 1: %+v", key, value, len(users), users)
	}
	return users[0]
}

func testFindByEachKey(t *testing.T, in *Instance) {
	n := in.Fixtures.Normal
	base := findOne(t, in, directory.ByLogin, n.Login)
	if base.ID == "" {
		t.Fatal("found user has an empty ID")
	}
	if !strings.EqualFold(base.Login, n.Login) {
		t.Errorf("Login = %q, want %q", base.Login, n.Login)
	}
	if n.Email != "" && !strings.EqualFold(base.Email, n.Email) {
		t.Errorf("Email = %q, want %q", base.Email, n.Email)
	}
	if n.Phone != "" && base.Mobile != n.Phone {
		t.Errorf("Mobile = %q, want %q", base.Mobile, n.Phone)
	}
	if n.EmployeeNumber != "" && base.EmployeeNumber != n.EmployeeNumber {
		t.Errorf("EmployeeNumber = %q, want %q", base.EmployeeNumber, n.EmployeeNumber)
	}
	for _, tc := range []struct {
		key   directory.Key
		value string
	}{
		{directory.ByEmail, n.Email},
		{directory.ByPhone, n.Phone},
		{directory.ByEmployeeNumber, n.EmployeeNumber},
	} {
		t.Run(string(tc.key), func(t *testing.T) {
			if tc.value == "" {
				t.Skip("fixture has no value for this key")
			}
			u := findOne(t, in, tc.key, tc.value)
			if u.ID != base.ID {
				t.Errorf("ID = %q, want %q", u.ID, base.ID)
			}
		})
	}
}

func testFindCaseInsensitive(t *testing.T, in *Instance) {
	n := in.Fixtures.Normal
	base := findOne(t, in, directory.ByLogin, n.Login)
	for _, tc := range []struct {
		name  string
		key   directory.Key
		value string
	}{
		{"login upper", directory.ByLogin, strings.ToUpper(n.Login)},
		{"login lower", directory.ByLogin, strings.ToLower(n.Login)},
		{"email upper", directory.ByEmail, strings.ToUpper(n.Email)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if u := findOne(t, in, tc.key, tc.value); u.ID != base.ID {
				t.Errorf("ID = %q, want %q", u.ID, base.ID)
			}
		})
	}
}

func testFindNotFound(t *testing.T, in *Instance) {
	for _, tc := range []struct {
		key   directory.Key
		value string
	}{
		{directory.ByLogin, "nobody-here-zz"},
		{directory.ByEmail, "nobody-here-zz@example.invalid"},
		{directory.ByPhone, "+15555559876"},
		{directory.ByEmployeeNumber, "99999999"},
	} {
		t.Run(string(tc.key), func(t *testing.T) {
			users, err := in.Dir.Find(ctxT(t), tc.key, tc.value)
			if err != nil {
				t.Fatalf("Find: %v (not found must not be an error)", err)
			}
			if len(users) != 0 {
				t.Fatalf("Find = %+v, want none", users)
			}
			if users == nil {
				t.Error("Find returned a nil slice; want an empty one (it encodes as [] in JSON)")
			}
		})
	}
}

// injections are hostile lookup values; none may match or error.
var injections = []string{
	"*", "**", "*)(uid=*", "*)(|(uid=*", "(|(uid=*))", "*)(objectClass=*)",
	`\00`, "\x00", `\2a`, ")(", "(", ")", `\`, "", " ", "*@*", "+*",
	"admin)(&)", "x*)(|(mail=*)(cn=*", "' OR '1'='1",
}

func testFindInjection(t *testing.T, in *Instance) {
	n := in.Fixtures.Normal
	values := append([]string{}, injections...)
	if len(n.Login) > 1 {
		values = append(values, n.Login[:1]+"*", "*"+n.Login[1:], n.Login+")(uid=*")
	}
	for _, key := range []directory.Key{directory.ByLogin, directory.ByEmail, directory.ByPhone, directory.ByEmployeeNumber} {
		for _, v := range values {
			users, err := in.Dir.Find(ctxT(t), key, v)
			if err != nil {
				t.Errorf("Find(%s, %q): error %v, want none", key, v, err)
				continue
			}
			if len(users) != 0 {
				t.Errorf("Find(%s, %q) = %d users, want none", key, v, len(users))
			}
		}
	}
}

func testFindShared(t *testing.T, in *Instance) {
	v := in.Fixtures.SharedEmployeeNumber
	if v == "" {
		t.Skip("backend has no shared employee number fixture")
	}
	users, err := in.Dir.Find(ctxT(t), directory.ByEmployeeNumber, v)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) < 2 {
		t.Fatalf("Find shared = %d users, want at least 2", len(users))
	}
	if users[0].ID == users[1].ID {
		t.Fatal("shared lookup returned the same user twice")
	}
}

func testStatus(t *testing.T, in *Instance) {
	f := in.Fixtures
	for _, tc := range []struct {
		name  string
		acct  Account
		check func(directory.Status) bool
	}{
		{"normal", f.Normal, func(s directory.Status) bool {
			return !s.Locked && !s.Disabled && !s.Expired && !s.Protected && s.Hold() == directory.HoldNone &&
				!s.PasswordChangeableAt.After(time.Now().Add(time.Minute))
		}},
		{"other", f.Other, func(s directory.Status) bool { return !s.Locked && !s.Disabled && !s.Protected }},
		{"locked", f.Locked, func(s directory.Status) bool {
			return s.Locked && !s.AdminLocked && s.Hold() == directory.HoldNone && !s.Protected
		}},
		{"disabled", f.Disabled, func(s directory.Status) bool {
			return s.Disabled && s.Hold() == directory.HoldDisabled && !s.Protected
		}},
		{"expired", f.Expired, func(s directory.Status) bool {
			return s.Expired && s.Hold() == directory.HoldExpired && !s.Protected
		}},
		{"admin locked", f.AdminLocked, func(s directory.Status) bool {
			return s.Locked && s.AdminLocked && s.LockedUntil.IsZero() && s.Hold() == directory.HoldAdminLocked
		}},
		{"protected", f.Protected, func(s directory.Status) bool { return s.Protected }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.acct.Login == "" {
				t.Skip("no fixture")
			}
			u := findOne(t, in, directory.ByLogin, tc.acct.Login)
			st, err := in.Dir.Status(ctxT(t), u)
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if !tc.check(st) {
				t.Errorf("Status = %+v: unexpected flags", st)
			}
		})
	}
}

func testNotFound(t *testing.T, in *Instance) {
	id := in.Fixtures.MissingID
	if id == "" {
		t.Skip("no MissingID fixture")
	}
	ghost := directory.User{ID: id, Login: "ghost"}
	ctx := ctxT(t)
	if _, err := in.Dir.Status(ctx, ghost); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Status(missing) = %v, want ErrNotFound", err)
	}
	if err := in.Dir.Unlock(ctx, ghost); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Unlock(missing) = %v, want ErrNotFound", err)
	}
	err := in.Dir.ResetPassword(ctx, ghost, pw("Ghost-Passw0rd-77"), directory.ResetOptions{})
	if !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("ResetPassword(missing) = %v, want ErrNotFound", err)
	}
}

func testConcurrent(t *testing.T, in *Instance) {
	n := in.Fixtures.Normal
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			users, err := in.Dir.Find(ctxT(t), directory.ByLogin, n.Login)
			if err == nil && len(users) != 1 {
				err = errors.New("concurrent Find did not return exactly one user")
			}
			if err == nil {
				_, err = in.Dir.Status(ctxT(t), users[0])
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func testCancelled(t *testing.T, in *Instance) {
	n := in.Fixtures.Normal
	u := findOne(t, in, directory.ByLogin, n.Login)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := in.Dir.Find(ctx, directory.ByLogin, n.Login); err == nil {
		t.Error("Find with a cancelled context succeeded")
	}
	if _, err := in.Dir.Status(ctx, u); err == nil {
		t.Error("Status with a cancelled context succeeded")
	}
	if err := in.Dir.Unlock(ctx, u); err == nil {
		t.Error("Unlock with a cancelled context succeeded")
	}
	if err := in.Dir.ResetPassword(ctx, u, pw("Cancelled-Passw0rd-1"), directory.ResetOptions{}); err == nil {
		t.Error("ResetPassword with a cancelled context succeeded")
	}
	// Nothing may have changed.
	mustBind(t, in, n.Login, n.Password, true)
}

func testTooYoung(t *testing.T, h Harness, in *Instance) {
	y := in.Fixtures.TooYoung
	if y.Login == "" {
		t.Skip("no TooYoung fixture")
	}
	u := findOne(t, in, directory.ByLogin, y.Login)
	st, err := in.Dir.Status(ctxT(t), u)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if !st.PasswordChangeableAt.After(time.Now()) {
		t.Errorf("PasswordChangeableAt = %v, want in the future", st.PasswordChangeableAt)
	}
	if !slices.Contains(h.Reasons, directory.ReasonTooYoung) {
		return
	}
	p := pw("TooYoung-Passw0rd-5")
	wantRefused(t, reset(t, in, u, p, directory.ResetOptions{}), directory.ReasonTooYoung)
	if !y.Password.Empty() {
		mustBind(t, in, y.Login, y.Password, true)
	}
	mustBind(t, in, y.Login, p, false)
}
