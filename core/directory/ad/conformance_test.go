package ad_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/directorytest"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/testserver"
)

func account(u testserver.SambaUser) directorytest.Account {
	return directorytest.Account{Login: u.Login, Email: u.Email, Phone: u.Mobile,
		EmployeeNumber: u.EmployeeID, Password: secret.New(u.Password)}
}

// TestConformance runs the shared directory suite against a real Samba AD DC,
// a fresh clone for every instance the suite asks for. Samba 4.17 does not
// check history on an administrator's reset (nor does Windows without the
// policy-hints control), so only too_short is listed.
func TestConformance(t *testing.T) {
	directorytest.Run(t, directorytest.Harness{
		Reasons: []directory.Reason{directory.ReasonTooShort},
		New: func(t *testing.T) *directorytest.Instance {
			s := testserver.SambaDC(t)
			d := open(t, config(s))
			return &directorytest.Instance{
				Dir: d,
				Fixtures: directorytest.Fixtures{
					Normal:               account(testserver.SambaJDoe),
					Other:                account(testserver.SambaASmith),
					Locked:               account(testserver.SambaLocked),
					Disabled:             account(testserver.SambaDisabled),
					Expired:              account(testserver.SambaExpired),
					Protected:            account(testserver.SambaAdminCount),
					SharedEmployeeNumber: testserver.SambaSharedEmployeeID,
					MissingID:            "CN=Nobody," + testserver.SambaPeopleOU,
				},
				Bind: func(_ context.Context, login string, pw secret.String) (bool, error) {
					err := s.Bind(login+"@"+s.Domain, pw.Reveal())
					if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
						return false, nil
					}
					return err == nil, err
				},
				SetLocked: func(_ context.Context, u directory.User) error {
					s.Lock(t, testserver.SambaUser{Login: u.Login, UPN: u.Login + "@" + s.Domain})
					return nil
				},
				SetHeld: func(_ context.Context, u directory.User) (directory.Hold, error) {
					return directory.HoldDisabled, disable(t, s, u.ID)
				},
				MustChange: func(_ context.Context, u directory.User) (bool, error) {
					return pwdLastSet(t, s, u.ID) == "0", nil
				},
				SetMaxPasswordAge: func(_ context.Context, maxAge time.Duration) error {
					return s.SetMaxPasswordAge(t, maxAge)
				},
			}
		},
	})
}

// disable sets ACCOUNTDISABLE in dn's userAccountControl as Administrator.
func disable(t *testing.T, s *testserver.SambaServer, dn string) error {
	c := s.Admin(t)
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, 0, 1, 0, false,
		"(objectClass=*)", []string{"userAccountControl"}, nil))
	if err != nil || len(res.Entries) != 1 {
		return fmt.Errorf("read userAccountControl: %v", err)
	}
	uac, err := strconv.Atoi(res.Entries[0].GetAttributeValue("userAccountControl"))
	if err != nil {
		return err
	}
	m := ldap.NewModifyRequest(dn, nil)
	m.Replace("userAccountControl", []string{strconv.Itoa(uac | 0x2)})
	return c.Modify(m)
}
