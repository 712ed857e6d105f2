package ad_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/ad"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/testserver"
)

// config returns a configuration for the least-privilege bot on s.
func config(s *testserver.SambaServer) ad.Config {
	return ad.Config{
		Name: "corp", Domain: s.Domain,
		Settings: ad.Settings{URL: s.URL, CAFile: s.CAFile,
			BindDN: testserver.SambaBot.UPN, BindPassword: secret.New(testserver.SambaBot.Password),
			BaseDN:          s.BaseDN,
			ProtectedGroups: []string{testserver.SambaProtectedGroupDN}},
	}
}

func open(t testing.TB, cfg ad.Config) *ad.Directory {
	t.Helper()
	d, err := ad.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func find(t *testing.T, d *ad.Directory, key directory.Key, v string) directory.User {
	t.Helper()
	us, err := d.Find(ctxT(t), key, v)
	if err != nil || len(us) != 1 {
		t.Fatalf("Find(%s, %q) = %+v, %v; want one user", key, v, us, err)
	}
	return us[0]
}

// canBind reports whether the fixture user binds with password.
func canBind(t *testing.T, s *testserver.SambaServer, u testserver.SambaUser, password string) bool {
	t.Helper()
	err := s.Bind(u.UPN, password)
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("bind %s: %v", u.Login, err)
	}
	return err == nil
}

// noLeak fails when the password appears in err's text.
func noLeak(t *testing.T, err error, pw string) {
	t.Helper()
	if err != nil && pw != "" && strings.Contains(err.Error(), pw) {
		t.Errorf("error text contains the password: %q", err)
	}
}

func TestSambaFind(t *testing.T) {
	s := testserver.SambaDC(t)
	d := open(t, config(s))
	if err := d.Check(ctxT(t)); err != nil {
		t.Fatalf("Check: %v", err)
	}
	j := testserver.SambaJDoe
	tests := []struct {
		name  string
		key   directory.Key
		value string
		want  []string // logins
	}{
		{"sAMAccountName", directory.ByLogin, "jdoe", []string{"jdoe"}},
		{"sAMAccountName upper", directory.ByLogin, "JDOE", []string{"jdoe"}},
		{"UPN", directory.ByLogin, j.UPN, []string{"jdoe"}},
		{"mail", directory.ByEmail, "JDoe@Example.org", []string{"jdoe"}},
		{"mobile", directory.ByPhone, j.Mobile, []string{"jdoe"}},
		{"employeeID", directory.ByEmployeeNumber, j.EmployeeID, []string{"jdoe"}},
		{"shared mobile", directory.ByPhone, testserver.SambaSharedMobile, []string{"sshared", "sshared2"}},
		{"computer login", directory.ByLogin, testserver.SambaComputerLogin, nil},
		{"computer employeeID", directory.ByEmployeeNumber, testserver.SambaComputerEmployeeID, nil},
		{"contact mail", directory.ByEmail, testserver.SambaContactMail, nil},
		{"unknown", directory.ByLogin, "nobody", nil},
		{"empty", directory.ByLogin, "", nil},
		{"wildcard", directory.ByLogin, "*", nil},
		{"prefix wildcard", directory.ByLogin, "jd*", nil},
		{"filter injection", directory.ByLogin, "*)(sAMAccountName=*", nil},
		{"or injection", directory.ByEmail, "x)(|(mail=*", nil},
		{"NUL", directory.ByLogin, "jdoe\x00", nil},
		{"backslash", directory.ByEmployeeNumber, `\2a`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			us, err := d.Find(ctxT(t), tt.key, tt.value)
			if err != nil {
				t.Fatalf("Find: %v", err)
			}
			var got []string
			for _, u := range us {
				got = append(got, u.Login)
			}
			sort.Strings(got) // the server returns matches in no fixed order
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("Find = %v, want %v", got, tt.want)
			}
		})
	}
	u := find(t, d, directory.ByLogin, "jdoe")
	want := directory.User{ID: j.DN, Directory: "corp", Login: "jdoe", DisplayName: j.DisplayName,
		GivenName: "John", Surname: "Doe", Email: j.Email, Mobile: j.Mobile, EmployeeNumber: j.EmployeeID}
	if u != want {
		t.Errorf("user = %+v\nwant %+v", u, want)
	}
}

func TestSambaStatus(t *testing.T) {
	s := testserver.SambaDC(t)
	d := open(t, config(s))
	tests := []struct {
		user testserver.SambaUser
		want directory.Status
	}{
		{testserver.SambaJDoe, directory.Status{}},
		{testserver.SambaLocked, directory.Status{Locked: true}},
		{testserver.SambaDisabled, directory.Status{Disabled: true}},
		{testserver.SambaExpired, directory.Status{Expired: true}},
		{testserver.SambaMustChange, directory.Status{PasswordExpired: true}},
		{testserver.SambaAdminCount, directory.Status{Protected: true}},
		{testserver.SambaNested, directory.Status{Protected: true}},
		{testserver.SambaAdministrator, directory.Status{Protected: true}},
		{testserver.SambaOutsider, directory.Status{}},
	}
	for _, tt := range tests {
		t.Run(tt.user.Login, func(t *testing.T) {
			got, err := d.Status(ctxT(t), directory.User{ID: tt.user.DN})
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if got != tt.want {
				t.Errorf("Status = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, err := d.Status(ctxT(t), directory.User{ID: "CN=Nobody," + testserver.SambaPeopleOU})
		if !errors.Is(err, directory.ErrNotFound) {
			t.Fatalf("Status(missing) = %v, want ErrNotFound", err)
		}
	})
	t.Run("min password age", func(t *testing.T) {
		// A reset sets pwdLastSet to now: the cached golden DC may be hours
		// old, and the age is counted from the last set.
		if err := d.ResetPassword(ctxT(t), directory.User{ID: testserver.SambaJDoe.DN},
			secret.New("Fresh-Meadow-Lantern-26!"), directory.ResetOptions{}); err != nil {
			t.Fatalf("reset: %v", err)
		}
		setDomain(t, s, "minPwdAge", "-864000000000") // one day
		got, err := d.Status(ctxT(t), directory.User{ID: testserver.SambaJDoe.DN})
		if err != nil {
			t.Fatal(err)
		}
		if at := got.PasswordChangeableAt; time.Until(at) < 23*time.Hour || time.Until(at) > 25*time.Hour {
			t.Errorf("PasswordChangeableAt = %v, want about a day from now", at)
		}
	})
	t.Run("lockout duration", func(t *testing.T) {
		setDomain(t, s, "lockoutDuration", "-18000000000") // 30 minutes
		got, err := d.Status(ctxT(t), directory.User{ID: testserver.SambaLocked.DN})
		if err != nil {
			t.Fatal(err)
		}
		// The golden DC locked the user when it was provisioned: the lockout
		// may already have ended, in which case it must not be reported.
		if got.Locked && got.LockedUntil.IsZero() {
			t.Errorf("Status = %+v: a timed lockout must say when it ends", got)
		}
	})
}

// setDomain sets a domain policy attribute as Administrator.
func setDomain(t *testing.T, s *testserver.SambaServer, attr, value string) {
	t.Helper()
	m := ldap.NewModifyRequest(s.BaseDN, nil)
	m.Replace(attr, []string{value})
	if err := s.Admin(t).Modify(m); err != nil {
		t.Fatalf("set %s: %v", attr, err)
	}
}

func pwdLastSet(t *testing.T, s *testserver.SambaServer, dn string) string {
	t.Helper()
	res, err := s.Admin(t).Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, 0, 1, 0, false,
		"(objectClass=*)", []string{"pwdLastSet"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read pwdLastSet: %v", err)
	}
	return res.Entries[0].GetAttributeValue("pwdLastSet")
}

func TestSambaReset(t *testing.T) {
	s := testserver.SambaDC(t)
	d := open(t, config(s))
	a := testserver.SambaASmith
	u := find(t, d, directory.ByLogin, a.Login)
	ctx := ctxT(t)

	t.Run("new password binds, old does not", func(t *testing.T) {
		if err := d.ResetPassword(ctx, u, secret.New("Brand-New-Pass-7"), directory.ResetOptions{}); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		if !canBind(t, s, a, "Brand-New-Pass-7") {
			t.Error("new password does not bind")
		}
		if canBind(t, s, a, a.Password) {
			t.Error("old password still binds")
		}
		if v := pwdLastSet(t, s, a.DN); v == "0" {
			t.Error("pwdLastSet = 0 without MustChange")
		}
	})
	t.Run("must change", func(t *testing.T) {
		if err := d.ResetPassword(ctx, u, secret.New("Temp-Pass-8877"), directory.ResetOptions{MustChange: true}); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		if v := pwdLastSet(t, s, a.DN); v != "0" {
			t.Errorf("pwdLastSet = %s, want 0", v)
		}
		err := s.Bind(a.UPN, "Temp-Pass-8877")
		if err == nil || !strings.Contains(err.Error(), "data 773") {
			t.Errorf("bind after must-change reset = %v, want data 773", err)
		}
		if st, err := d.Status(ctx, u); err != nil || !st.PasswordExpired {
			t.Errorf("Status = %+v, %v; want PasswordExpired", st, err)
		}
	})
	t.Run("unicode 64 characters with emoji and trailing space", func(t *testing.T) {
		pw := "Ünïcødé-Paßwörter-パスワード-🔐🦄-Ωmega-"
		pw += strings.Repeat("x", 63-len([]rune(pw))) + " "
		if n := len([]rune(pw)); n != 64 {
			t.Fatalf("test password has %d characters", n)
		}
		if err := d.ResetPassword(ctx, u, secret.New(pw), directory.ResetOptions{}); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		if !canBind(t, s, a, pw) {
			t.Error("unicode password does not bind")
		}
		if canBind(t, s, a, strings.TrimSuffix(pw, " ")) {
			t.Error("password without its trailing space binds")
		}
	})
	t.Run("missing user", func(t *testing.T) {
		ghost := directory.User{ID: "CN=Nobody," + testserver.SambaPeopleOU}
		if err := d.ResetPassword(ctx, ghost, secret.New("Ghost-Pass-123"), directory.ResetOptions{}); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("ResetPassword(missing) = %v, want ErrNotFound", err)
		}
	})
}

func TestSambaRefused(t *testing.T) {
	s := testserver.SambaDC(t)
	d := open(t, config(s))
	j := testserver.SambaJDoe
	u := find(t, d, directory.ByLogin, j.Login)
	tests := []struct {
		name, pw string
		want     directory.Reason
	}{
		{"too short", "Ab1!x", directory.ReasonTooShort},
		{"complexity", "alllowercaseletters", directory.ReasonQuality},
		{"empty", "", directory.ReasonTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.ResetPassword(ctxT(t), u, secret.New(tt.pw), directory.ResetOptions{})
			var re *directory.RefusedError
			if !errors.As(err, &re) || !errors.Is(err, directory.ErrRefused) {
				t.Fatalf("ResetPassword = %v, want *RefusedError", err)
			}
			if re.Reason != tt.want {
				t.Errorf("Reason = %s, want %s (%v)", re.Reason, tt.want, err)
			}
			noLeak(t, err, tt.pw)
			if !canBind(t, s, j, j.Password) {
				t.Error("refused reset changed the password")
			}
		})
	}
}

func TestSambaUnlock(t *testing.T) {
	s := testserver.SambaDC(t)
	d := open(t, config(s))
	ctx := ctxT(t)
	sh := testserver.SambaShared1
	u := find(t, d, directory.ByLogin, sh.Login)
	if err := d.Unlock(ctx, u); err != nil {
		t.Fatalf("Unlock of an unlocked account: %v", err)
	}
	s.Lock(t, sh)
	if st, err := d.Status(ctx, u); err != nil || !st.Locked {
		t.Fatalf("Status after failed binds = %+v, %v; want locked", st, err)
	}
	if canBind(t, s, sh, sh.Password) {
		t.Fatal("locked user binds")
	}
	if err := d.Unlock(ctx, u); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if st, err := d.Status(ctx, u); err != nil || st.Locked {
		t.Fatalf("Status after Unlock = %+v, %v", st, err)
	}
	if !canBind(t, s, sh, sh.Password) {
		t.Error("unlocked user cannot bind")
	}
	l := testserver.SambaLocked
	if err := d.Unlock(ctx, directory.User{ID: l.DN}); err != nil {
		t.Fatalf("Unlock(locked fixture): %v", err)
	}
	if !canBind(t, s, l, l.Password) {
		t.Error("unlocked fixture cannot bind")
	}
}

func TestSambaProtected(t *testing.T) {
	s := testserver.SambaDC(t)
	d := open(t, config(s))
	for _, p := range []testserver.SambaUser{testserver.SambaAdminCount, testserver.SambaNested,
		testserver.SambaAdministrator, testserver.SambaOutsider} {
		t.Run(p.Login, func(t *testing.T) {
			u := directory.User{ID: p.DN, Login: p.Login}
			if err := d.ResetPassword(ctxT(t), u, secret.New("Protected-Pass-9"), directory.ResetOptions{}); !errors.Is(err, directory.ErrProtected) {
				t.Errorf("ResetPassword = %v, want ErrProtected", err)
			}
			if err := d.Unlock(ctxT(t), u); !errors.Is(err, directory.ErrProtected) {
				t.Errorf("Unlock = %v, want ErrProtected", err)
			}
			if !canBind(t, s, p, p.Password) {
				t.Error("password changed")
			}
		})
	}
	t.Run("AllowProtected", func(t *testing.T) {
		cfg := config(s)
		cfg.AllowProtected = true
		d := open(t, cfg)
		n := testserver.SambaNested
		if err := d.ResetPassword(ctxT(t), directory.User{ID: n.DN}, secret.New("Allowed-Pass-9"), directory.ResetOptions{}); err != nil {
			t.Fatalf("ResetPassword with AllowProtected: %v", err)
		}
		if !canBind(t, s, n, "Allowed-Pass-9") {
			t.Error("new password does not bind")
		}
	})
}

// TestSambaManager: the manager named by the account's manager attribute is
// read for notices; one outside the base DN, or an entry that is not a
// person, is not found.
func TestSambaManager(t *testing.T) {
	s := testserver.SambaDC(t)
	cfg := config(s)
	cfg.Attributes.Manager = "manager"
	d := open(t, cfg)
	j, a := testserver.SambaJDoe, testserver.SambaASmith
	setManager := func(dn string) {
		t.Helper()
		m := ldap.NewModifyRequest(j.DN, nil)
		m.Replace("manager", []string{dn})
		if err := s.Admin(t).Modify(m); err != nil {
			t.Fatalf("set manager: %v", err)
		}
	}
	setManager(a.DN)
	u := find(t, d, directory.ByLogin, "jdoe")
	if !strings.EqualFold(u.Manager, a.DN) {
		t.Fatalf("Manager attribute = %q, want %q", u.Manager, a.DN)
	}
	mgr, ok, err := d.Manager(ctxT(t), u)
	if err != nil || !ok || mgr.Login != "asmith" || mgr.Email != a.Email {
		t.Fatalf("Manager = %+v, %v, %v; want asmith", mgr, ok, err)
	}
	for _, dn := range []string{testserver.SambaProtectedGroupDN, "CN=Administrator,CN=Users,DC=other,DC=example"} {
		u.Manager = dn
		if mgr, ok, err := d.Manager(ctxT(t), u); ok || err != nil {
			t.Errorf("Manager(%s) = %+v, %v, %v; want not found", dn, mgr, ok, err)
		}
	}
	u.Manager = ""
	if _, ok, err := d.Manager(ctxT(t), u); ok || err != nil {
		t.Errorf("Manager without attribute = %v, %v", ok, err)
	}
}

// TestSambaPreferredLanguage: the account's preferredLanguage is read with
// it (the language a verified person is spoken to in).
func TestSambaPreferredLanguage(t *testing.T) {
	s := testserver.SambaDC(t)
	d := open(t, config(s))
	a := testserver.SambaASmith
	if got := find(t, d, directory.ByLogin, "asmith").PreferredLanguage; got != "" {
		t.Fatalf("PreferredLanguage = %q before it is set", got)
	}
	m := ldap.NewModifyRequest(a.DN, nil)
	m.Replace("preferredLanguage", []string{"de-DE"})
	if err := s.Admin(t).Modify(m); err != nil {
		t.Fatalf("set preferredLanguage: %v", err)
	}
	if got := find(t, d, directory.ByLogin, "asmith").PreferredLanguage; got != "de-DE" {
		t.Fatalf("PreferredLanguage = %q, want de-DE", got)
	}
}
