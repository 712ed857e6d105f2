package testserver

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// SetMaxPasswordAge sets pwdMaxAge of the ppolicy entry policyDN as the root
// DN, for expiry tests: a password changed at T then expires at T+maxAge.
func (s *SlapdServer) SetMaxPasswordAge(policyDN string, maxAge time.Duration) error {
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.StartTLS(s.TLSConfig()); err != nil {
		return err
	}
	if err := c.Bind(SlapdRootDN, SlapdRootPW); err != nil {
		return err
	}
	m := ldap.NewModifyRequest(policyDN, nil)
	m.Replace("pwdMaxAge", []string{strconv.Itoa(int(maxAge.Seconds()))})
	if err := c.Modify(m); err != nil {
		return fmt.Errorf("slapd: set pwdMaxAge of %s: %w", policyDN, err)
	}
	return nil
}

// SetMaxPasswordAge sets the domain's maxPwdAge as Administrator, for expiry
// tests: msDS-UserPasswordExpiryTimeComputed is then pwdLastSet + maxAge.
func (s *SambaServer) SetMaxPasswordAge(t testing.TB, maxAge time.Duration) error {
	c := s.Admin(t)
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{"defaultNamingContext"}, nil))
	if err != nil || len(res.Entries) != 1 {
		return fmt.Errorf("samba: read rootDSE: %v", err)
	}
	m := ldap.NewModifyRequest(res.Entries[0].GetAttributeValue("defaultNamingContext"), nil)
	m.Replace("maxPwdAge", []string{strconv.FormatInt(-int64(maxAge/100), 10)})
	if err := c.Modify(m); err != nil {
		return fmt.Errorf("samba: set maxPwdAge: %w", err)
	}
	return nil
}
