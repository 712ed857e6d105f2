package directorytest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

func pw(s string) secret.String { return secret.New(s) }

// mustBind asserts whether login can bind with password.
func mustBind(t *testing.T, in *Instance, login string, password secret.String, want bool) {
	t.Helper()
	if in.Bind == nil {
		t.Fatal("directorytest: Instance.Bind is nil")
	}
	ok, err := in.Bind(ctxT(t), login, password)
	if err != nil {
		t.Fatalf("Bind(%s): %v", login, err)
	}
	if ok != want {
		t.Fatalf("Bind(%s) = %v, want %v", login, ok, want)
	}
}

// noLeak fails when err's text contains the password.
func noLeak(t *testing.T, err error, password secret.String) {
	t.Helper()
	if err != nil && password.Len() > 0 && strings.Contains(err.Error(), password.Reveal()) {
		t.Errorf("error text contains the password: %q", err.Error())
	}
}

func reset(t *testing.T, in *Instance, u directory.User, p secret.String, opts directory.ResetOptions) error {
	t.Helper()
	err := in.Dir.ResetPassword(ctxT(t), u, p, opts)
	noLeak(t, err, p)
	return err
}

func testReset(t *testing.T, in *Instance) {
	n := in.Fixtures.Normal
	u := findOne(t, in, directory.ByLogin, n.Login)
	newPw := pw("Fresh-Passw0rd-41")
	if err := reset(t, in, u, newPw, directory.ResetOptions{}); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	mustBind(t, in, n.Login, newPw, true)
	mustBind(t, in, n.Login, n.Password, false)
	// The other user is untouched.
	if o := in.Fixtures.Other; o.Login != "" && !o.Password.Empty() {
		mustBind(t, in, o.Login, o.Password, true)
	}
}

func testMustChange(t *testing.T, in *Instance) {
	if in.MustChange == nil {
		t.Skip("backend has no MustChange hook")
	}
	u := findOne(t, in, directory.ByLogin, in.Fixtures.Normal.Login)
	for i, want := range []bool{true, false} {
		p := pw([]string{"MustChange-Passw0rd-1", "MustChange-Passw0rd-2"}[i])
		if err := reset(t, in, u, p, directory.ResetOptions{MustChange: want}); err != nil {
			t.Fatalf("ResetPassword(MustChange=%v): %v", want, err)
		}
		got, err := in.MustChange(ctxT(t), u)
		if err != nil {
			t.Fatalf("MustChange hook: %v", err)
		}
		if got != want {
			t.Errorf("after reset with MustChange=%v the account reports %v", want, got)
		}
	}
}

// wantRefused asserts err is a *RefusedError with reason.
func wantRefused(t *testing.T, err error, reason directory.Reason) {
	t.Helper()
	var re *directory.RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *RefusedError(%s)", err, reason)
	}
	if !errors.Is(err, directory.ErrRefused) {
		t.Errorf("errors.Is(err, ErrRefused) = false")
	}
	if re.Reason != reason {
		t.Errorf("Reason = %q, want %q (detail %q)", re.Reason, reason, re.Detail)
	}
}

func testRefused(t *testing.T, h Harness, in *Instance) {
	n := in.Fixtures.Normal
	u := findOne(t, in, directory.ByLogin, n.Login)
	t.Run("TooShort", func(t *testing.T) {
		if !slices.Contains(h.Reasons, directory.ReasonTooShort) {
			t.Skip("backend does not report too_short")
		}
		short := pw("Sh0rt!")
		wantRefused(t, reset(t, in, u, short, directory.ResetOptions{}), directory.ReasonTooShort)
		mustBind(t, in, n.Login, n.Password, true)
		mustBind(t, in, n.Login, short, false)
	})
	t.Run("History", func(t *testing.T) {
		if !slices.Contains(h.Reasons, directory.ReasonHistory) {
			t.Skip("backend does not report history")
		}
		first, second := pw("History-Passw0rd-A1"), pw("History-Passw0rd-B2")
		for _, p := range []secret.String{first, second} {
			if err := reset(t, in, u, p, directory.ResetOptions{}); err != nil {
				t.Fatalf("ResetPassword: %v", err)
			}
		}
		wantRefused(t, reset(t, in, u, first, directory.ResetOptions{}), directory.ReasonHistory)
		mustBind(t, in, n.Login, second, true)
		mustBind(t, in, n.Login, first, false)
	})
}

func testUnlock(t *testing.T, in *Instance) {
	n := in.Fixtures.Normal
	u := findOne(t, in, directory.ByLogin, n.Login)
	if in.SetLocked == nil {
		t.Fatal("directorytest: Instance.SetLocked is nil")
	}
	if err := in.Dir.Unlock(ctxT(t), u); err != nil {
		t.Fatalf("Unlock of an unlocked account: %v", err)
	}
	if err := in.SetLocked(ctxT(t), u); err != nil {
		t.Fatalf("SetLocked: %v", err)
	}
	if st, err := in.Dir.Status(ctxT(t), u); err != nil || !st.Locked {
		t.Fatalf("Status after SetLocked = %+v, %v; want locked", st, err)
	}
	if err := in.Dir.Unlock(ctxT(t), u); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if st, err := in.Dir.Status(ctxT(t), u); err != nil || st.Locked {
		t.Fatalf("Status after Unlock = %+v, %v; want unlocked", st, err)
	}
	mustBind(t, in, n.Login, n.Password, true)

	if l := in.Fixtures.Locked; l.Login != "" {
		lu := findOne(t, in, directory.ByLogin, l.Login)
		if err := in.Dir.Unlock(ctxT(t), lu); err != nil {
			t.Fatalf("Unlock(locked fixture): %v", err)
		}
		if st, err := in.Dir.Status(ctxT(t), lu); err != nil || st.Locked {
			t.Fatalf("Status of the locked fixture after Unlock = %+v, %v", st, err)
		}
	}
}

func testProtected(t *testing.T, in *Instance) {
	p := in.Fixtures.Protected
	if p.Login == "" {
		t.Skip("no protected fixture")
	}
	u := findOne(t, in, directory.ByLogin, p.Login)
	newPw := pw("Protected-Passw0rd-9")
	err := reset(t, in, u, newPw, directory.ResetOptions{})
	if !errors.Is(err, directory.ErrProtected) {
		t.Fatalf("ResetPassword(protected) = %v, want ErrProtected", err)
	}
	if err := in.Dir.Unlock(ctxT(t), u); !errors.Is(err, directory.ErrProtected) {
		t.Errorf("Unlock(protected) = %v, want ErrProtected", err)
	}
	if !p.Password.Empty() {
		mustBind(t, in, p.Login, p.Password, true)
	}
	mustBind(t, in, p.Login, newPw, false)
}

// unicodePassword is 64 characters: accents, CJK, emoji (outside the BMP, so
// UTF-16 surrogate pairs on AD) and a trailing space that must survive.
func unicodePassword() string {
	s := "Ünïcødé-Paßwörter-パスワード-🔐🦄-Ωmega-"
	for utf8.RuneCountInString(s) < 63 {
		s += "x"
	}
	return s + " "
}

func testUnicode(t *testing.T, in *Instance) {
	n := in.Fixtures.Normal
	u := findOne(t, in, directory.ByLogin, n.Login)
	s := unicodePassword()
	if utf8.RuneCountInString(s) != 64 {
		t.Fatalf("test password has %d characters", utf8.RuneCountInString(s))
	}
	p := pw(s)
	if err := reset(t, in, u, p, directory.ResetOptions{}); err != nil {
		t.Fatalf("ResetPassword(unicode): %v", err)
	}
	mustBind(t, in, n.Login, p, true)
	mustBind(t, in, n.Login, pw(strings.TrimRight(s, " ")), false)
	mustBind(t, in, n.Login, n.Password, false)
}
