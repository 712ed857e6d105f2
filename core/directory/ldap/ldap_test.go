package ldap_test

import (
	"context"
	"errors"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/directorytest"
	"github.com/resetbot/resetbot/core/directory/ldap"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/testserver"
)

// config returns a StartTLS configuration for s.
func config(s *testserver.SlapdServer) ldap.Config {
	return ldap.Config{
		Settings: ldap.Settings{
			URL:             s.URL,
			StartTLS:        true,
			CAFile:          s.CAFile,
			BindDN:          testserver.SlapdBotDN,
			BindPassword:    secret.New(testserver.SlapdBotPW),
			BaseDN:          testserver.SlapdBaseDN,
			ProtectedGroups: []string{testserver.SlapdTier0DN},
			DialTimeout:     3 * time.Second,
			RequestTimeout:  5 * time.Second,
		},
		DisabledAttribute: testserver.SlapdDisabledAttr,
		DisabledValue:     testserver.SlapdDisabledValue,
		PolicyDN:          testserver.SlapdPolicyDN,
	}
}

func open(t testing.TB, cfg ldap.Config) *ldap.Directory {
	t.Helper()
	d, err := ldap.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// rawConn is a StartTLS connection bound as dn.
func rawConn(s *testserver.SlapdServer, dn, pw string) (*goldap.Conn, error) {
	c, err := goldap.DialURL(s.URL)
	if err != nil {
		return nil, err
	}
	if err := c.StartTLS(s.TLSConfig()); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Bind(dn, pw); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func fixture(u testserver.SlapdUser) directorytest.Account {
	return directorytest.Account{Login: u.Login, Email: u.Email, Phone: u.Mobile,
		EmployeeNumber: u.EmployeeNumber, Password: secret.New(u.Password)}
}

func instance(t *testing.T) (*directorytest.Instance, *testserver.SlapdServer) {
	s := testserver.Slapd(t)
	d := open(t, config(s))
	us := testserver.SlapdUsers
	in := &directorytest.Instance{
		Dir: d,
		Fixtures: directorytest.Fixtures{
			Normal: fixture(us[0]), Other: fixture(us[1]), Locked: fixture(us[2]),
			Disabled: fixture(us[3]), Protected: fixture(us[4]),
			TooYoung:             fixture(us[7]),
			AdminLocked:          fixture(us[8]),
			Expired:              fixture(us[9]),
			SharedEmployeeNumber: testserver.SlapdSharedEmpNo,
			MissingID:            "uid=ghost," + testserver.SlapdPeopleDN,
		},
		Bind: func(ctx context.Context, login string, pw secret.String) (bool, error) {
			c, err := rawConn(s, "uid="+goldap.EscapeDN(login)+","+testserver.SlapdPeopleDN, pw.Reveal())
			if goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			c.Close()
			return true, nil
		},
		// SetLocked writes what ppolicy writes after pwdMaxFailure failed
		// binds: the time of the lockout (pwdLockoutDuration 0: until unlocked).
		SetLocked: func(ctx context.Context, u directory.User) error {
			return setLockedTime(s, u.ID, time.Now().UTC().Format("20060102150405Z"))
		},
		SetHeld: func(ctx context.Context, u directory.User) (directory.Hold, error) {
			return directory.HoldAdminLocked, setLockedTime(s, u.ID, "000001010000Z")
		},
		MustChange: func(ctx context.Context, u directory.User) (bool, error) {
			c, err := rawConn(s, testserver.SlapdRootDN, testserver.SlapdRootPW)
			if err != nil {
				return false, err
			}
			defer c.Close()
			res, err := c.Search(goldap.NewSearchRequest(u.ID, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
				1, 0, false, "(objectClass=*)", []string{"pwdReset"}, nil))
			if err != nil {
				return false, err
			}
			return res.Entries[0].GetAttributeValue("pwdReset") == "TRUE", nil
		},
		SetMaxPasswordAge: func(ctx context.Context, maxAge time.Duration) error {
			return s.SetMaxPasswordAge(testserver.SlapdPolicyDN, maxAge)
		},
	}
	return in, s
}

// setLockedTime sets pwdAccountLockedTime on dn as the root DN.
func setLockedTime(s *testserver.SlapdServer, dn, value string) error {
	c, err := rawConn(s, testserver.SlapdRootDN, testserver.SlapdRootPW)
	if err != nil {
		return err
	}
	defer c.Close()
	m := goldap.NewModifyRequest(dn, nil)
	m.Replace("pwdAccountLockedTime", []string{value})
	return c.Modify(m)
}

func TestConformance(t *testing.T) {
	directorytest.Run(t, directorytest.Harness{
		Reasons: []directory.Reason{directory.ReasonTooShort, directory.ReasonHistory, directory.ReasonTooYoung},
		New: func(t *testing.T) *directorytest.Instance {
			in, _ := instance(t)
			return in
		},
	})
}

func find(t testing.TB, d directory.Directory, login string) directory.User {
	t.Helper()
	users, err := d.Find(context.Background(), directory.ByLogin, login)
	if err != nil || len(users) != 1 {
		t.Fatalf("Find(%s) = %v, %v", login, users, err)
	}
	return users[0]
}

func TestMinAge(t *testing.T) {
	in, _ := instance(t)
	ctx := context.Background()
	mia := find(t, in.Dir, "mia")
	st, err := in.Dir.Status(ctx, mia)
	if err != nil {
		t.Fatal(err)
	}
	if until := time.Until(st.PasswordChangeableAt); until < 50*time.Minute || until > 61*time.Minute {
		t.Fatalf("PasswordChangeableAt = %v, want about an hour from now", st.PasswordChangeableAt)
	}
	err = in.Dir.ResetPassword(ctx, mia, secret.New("Mia-Second-Pw1"), directory.ResetOptions{})
	var re *directory.RefusedError
	if !errors.As(err, &re) || re.Reason != directory.ReasonTooYoung {
		t.Fatalf("reset under min age = %v, want too_young", err)
	}
}

func TestStatusLockedPermanently(t *testing.T) {
	in, _ := instance(t)
	st, err := in.Dir.Status(context.Background(), find(t, in.Dir, "carol"))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Locked || !st.LockedUntil.IsZero() {
		t.Fatalf("Status = %+v, want locked until unlocked", st)
	}
}

// TestPreferredLanguage: the account's preferredLanguage (RFC 2798) is read,
// for the flows to speak once the user is verified.
func TestPreferredLanguage(t *testing.T) {
	in, s := instance(t)
	mia := find(t, in.Dir, "mia")
	if mia.PreferredLanguage != "" {
		t.Fatalf("PreferredLanguage = %q before it is set", mia.PreferredLanguage)
	}
	c, err := rawConn(s, testserver.SlapdRootDN, testserver.SlapdRootPW)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := goldap.NewModifyRequest(mia.ID, nil)
	m.Replace("preferredLanguage", []string{"pt-BR"})
	if err := c.Modify(m); err != nil {
		t.Fatal(err)
	}
	if got := find(t, in.Dir, "mia").PreferredLanguage; got != "pt-BR" {
		t.Fatalf("PreferredLanguage = %q, want pt-BR", got)
	}
}
