package ldap_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/internal/testserver"
)

// relaxOID is the LDAP Relax Rules control: it lets the rootdn write
// pwdChangedTime (NO-USER-MODIFICATION) to seed a large directory.
const relaxOID = "1.3.6.1.4.1.4203.666.5.12"

// seedAged adds n users whose passwords changed i minutes apart going back
// from now (user i changed i*spread ago), as the rootdn.
func seedAged(b *testing.B, s *testserver.SlapdServer, n int, spread time.Duration) {
	b.Helper()
	c, err := rawConn(s, testserver.SlapdRootDN, testserver.SlapdRootPW)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	now := time.Now().UTC()
	for i := range n {
		login := fmt.Sprintf("load%05d", i)
		a := goldap.NewAddRequest("uid="+login+","+testserver.SlapdPeopleDN, []goldap.Control{goldap.NewControlString(relaxOID, true, "")})
		a.Attribute("objectClass", []string{"inetOrgPerson"})
		a.Attribute("uid", []string{login})
		a.Attribute("cn", []string{login})
		a.Attribute("sn", []string{"Load"})
		a.Attribute("mail", []string{login + "@example.org"})
		a.Attribute("pwdChangedTime", []string{now.Add(-time.Duration(i) * spread).Format("20060102150405Z")})
		if err := c.Add(a); err != nil {
			b.Fatalf("add %s: %v", login, err)
		}
	}
}

// BenchmarkExpiringWithin10k measures one expiry listing on 10,000 users
// whose password ages are spread evenly over 100 days, with pwdMaxAge 90
// days and a 14-day window: about 14% of the users are inside it. It
// reports the entries read per sweep (entries/op); the pwdChangedTime range
// filter is what keeps the other 86% off the wire.
func BenchmarkExpiringWithin10k(b *testing.B) {
	s := testserver.Slapd(b)
	const n = 10000
	seedAged(b, s, n, 100*24*time.Hour/n)
	if err := s.SetMaxPasswordAge(testserver.SlapdPolicyDN, 90*24*time.Hour); err != nil {
		b.Fatal(err)
	}
	d := open(b, config(s))
	ctx := ctxBench(b)
	b.Run("range", func(b *testing.B) {
		var got int
		for b.Loop() {
			list, err := d.ExpiringWithin(ctx, 14*24*time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			got = len(list)
		}
		if got < n*13/100 || got > n*15/100 {
			b.Fatalf("listed %d of %d, want about 14%%", got, n)
		}
		b.ReportMetric(float64(got), "entries/op")
	})
	// The baseline the range filter avoids: every user, same attributes.
	b.Run("full_scan", func(b *testing.B) {
		c, err := rawConn(s, testserver.SlapdBotDN, testserver.SlapdBotPW)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		var got int
		for b.Loop() {
			res, err := c.SearchWithPaging(goldap.NewSearchRequest(testserver.SlapdPeopleDN, goldap.ScopeWholeSubtree,
				goldap.NeverDerefAliases, 0, 0, false, "(objectClass=inetOrgPerson)",
				[]string{"uid", "mail", "displayName", "pwdChangedTime", "pwdPolicySubentry", "pwdAccountLockedTime"}, nil), 250)
			if err != nil {
				b.Fatal(err)
			}
			got = len(res.Entries)
		}
		b.ReportMetric(float64(got), "entries/op")
	})
}

func ctxBench(b *testing.B) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	b.Cleanup(cancel)
	return ctx
}
