package testserver

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestSlapdStartsWithFixtures(t *testing.T) {
	s := Slapd(t)
	c, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(SlapdBotDN, SlapdBotPW); err != nil {
		t.Fatalf("bot bind: %v", err)
	}
	res, err := c.Search(ldap.NewSearchRequest(SlapdPeopleDN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 5, false,
		"(objectClass=inetOrgPerson)", []string{"uid", "pwdAccountLockedTime", "pwdChangedTime"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != len(SlapdUsers) {
		t.Fatalf("%d people, want %d", len(res.Entries), len(SlapdUsers))
	}
	if err := c.Bind(SlapdUsers[0].DN(), SlapdUsers[0].Password); err != nil {
		t.Fatalf("user bind: %v", err)
	}
	s.Stop()
	s.Restart(t)
	c2, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	defer c2.Close()
	if err := c2.StartTLS(s.TLSConfig()); err != nil {
		t.Fatal(err)
	}
	if err := c2.Bind(SlapdBotDN, SlapdBotPW); err != nil {
		t.Fatalf("bot bind after restart: %v", err)
	}
}
