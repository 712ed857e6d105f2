package ldap

import (
	"errors"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestPpolicyControlDecoded proves the reasons come from the ppolicy
// response control, not from the fallback on the diagnostic text.
func TestPpolicyControlDecoded(t *testing.T) {
	s := testserver.Slapd(t)
	c, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(testserver.SlapdBotDN, testserver.SlapdBotPW); err != nil {
		t.Fatal(err)
	}
	alice := testserver.SlapdUsers[0].DN()
	mia := testserver.SlapdUsers[7].DN()
	if err := passwordModify(c, alice, secret.New("Alice-Second-Pw1")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dn, pw string
		code         int8
		reason       directory.Reason
	}{
		{"too short", alice, "Ab1!", 6, directory.ReasonTooShort},
		{"history", alice, testserver.SlapdUsers[0].Password, 8, directory.ReasonHistory},
		{"too young", mia, "Mia-Second-Pw1", 7, directory.ReasonTooYoung},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := passwordModify(c, tc.dn, secret.New(tc.pw))
			var re *directory.RefusedError
			if !errors.As(err, &re) || re.Reason != tc.reason {
				t.Fatalf("err = %v, want %s", err, tc.reason)
			}
			// The raw answer carries the control with the expected code.
			_, raw := c.Extended(passwordModifyRequest(tc.dn, secret.New(tc.pw)))
			var le *ldap.Error
			if !errors.As(raw, &le) {
				t.Fatalf("raw err = %v", raw)
			}
			pc := ppolicyControl(le.Packet)
			if pc == nil || pc.Error != tc.code {
				t.Fatalf("ppolicy control = %v, want error %d", pc, tc.code)
			}
		})
	}
}

func TestRefusalFallback(t *testing.T) {
	for _, tc := range []struct {
		code uint16
		diag string
		want directory.Reason
	}{
		{ldap.LDAPResultConstraintViolation, "Password is in history of old passwords", directory.ReasonHistory},
		{ldap.LDAPResultConstraintViolation, "Password is too young to change", directory.ReasonTooYoung},
		{ldap.LDAPResultConstraintViolation, "Password fails quality checking policy", directory.ReasonQuality},
		{ldap.LDAPResultConstraintViolation, "Password is too short for policy", directory.ReasonTooShort},
		{ldap.LDAPResultUnwillingToPerform, "something else", directory.ReasonPolicy},
	} {
		t.Run(tc.diag, func(t *testing.T) {
			re := refusal(&ldap.Error{ResultCode: tc.code, Err: errors.New(tc.diag)})
			if re == nil || re.Reason != tc.want {
				t.Fatalf("refusal = %v, want %s", re, tc.want)
			}
		})
	}
	if re := refusal(&ldap.Error{ResultCode: ldap.LDAPResultInsufficientAccessRights, Err: errors.New("no")}); re != nil {
		t.Fatalf("insufficient access became a refusal: %v", re)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 27, 14, 30, 5, 0, time.UTC)
	for _, s := range []string{"20261127143005Z", "20261127143005.123456Z", "20261127153005+0100"} {
		if got, ok := parseTime(s); !ok || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v", s, got, ok)
		}
	}
	if _, ok := parseTime("garbage"); ok {
		t.Error("garbage parsed")
	}
}

func TestStatusLockoutDuration(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d := &Directory{cfg: Config{Now: func() time.Time { return now }}.withDefaults()}
	e := ldap.NewEntry("uid=x", map[string][]string{attrLockedTime: {"20260301115000Z"}})
	st := d.status(e, policy{lockoutDuration: 30 * time.Minute}, false)
	if !st.Locked || !st.LockedUntil.Equal(now.Add(20*time.Minute)) {
		t.Fatalf("status = %+v, want locked for 20 more minutes", st)
	}
	st = d.status(e, policy{lockoutDuration: 5 * time.Minute}, false)
	if st.Locked {
		t.Fatalf("status = %+v, want the lock expired", st)
	}
	e = ldap.NewEntry("uid=x", map[string][]string{attrChangedTime: {"20250101000000Z"}})
	if st := d.status(e, policy{maxAge: 90 * 24 * time.Hour}, false); !st.PasswordExpired {
		t.Fatalf("status = %+v, want password expired", st)
	}
}
