package ad_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/internal/testserver"
)

// seedExpiring adds n enabled people to the People OU over conns
// connections; every seventh (about 14%) then gets pwdLastSet=-1 (now), the
// rest keep pwdLastSet 0 (no password set: never listed).
func seedExpiring(b *testing.B, s *testserver.SambaServer, n, conns int) int {
	var next, fresh atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.Dial()
			if err == nil {
				defer c.Close()
				err = c.Bind(testserver.SambaAdministrator.UPN, testserver.SambaAdminPassword)
			}
			for i := next.Add(1) - 1; err == nil && i < int64(n); i = next.Add(1) - 1 {
				dn := fmt.Sprintf("CN=exp%05d,%s", i, testserver.SambaPeopleOU)
				a := ldap.NewAddRequest(dn, nil)
				a.Attribute("objectClass", []string{"user"})
				a.Attribute("sAMAccountName", []string{fmt.Sprintf("exp%05d", i)})
				a.Attribute("mail", []string{fmt.Sprintf("exp%05d@example.org", i)})
				// NORMAL_ACCOUNT | PASSWD_NOTREQD: no password hashing, so
				// 10,000 adds fit a benchmark run.
				a.Attribute("userAccountControl", []string{"544"})
				if err = c.Add(a); err == nil && i%7 == 0 {
					m := ldap.NewModifyRequest(dn, nil)
					m.Replace("pwdLastSet", []string{"-1"})
					err = c.Modify(m)
					fresh.Add(1)
				}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return int(fresh.Load())
}

// BenchmarkSambaExpiringWithin measures one expiry listing on a Samba AD DC
// holding RESETBOT_SAMBA_SEED seeded people (default 10,000), about 14% of
// them with a password set now and a domain maxPwdAge of 6 days, listed with
// a 7-day window. It reports the entries returned per sweep.
func BenchmarkSambaExpiringWithin(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("RESETBOT_SAMBA_SEED")); err == nil && v > 0 {
		n = v
	}
	s := testserver.SambaDC(b)
	start := time.Now()
	fresh := seedExpiring(b, s, n, 4)
	b.Logf("seeded %d people (%d with a fresh password) in %v", n, fresh, time.Since(start).Round(time.Millisecond))
	if err := s.SetMaxPasswordAge(b, 6*24*time.Hour); err != nil {
		b.Fatal(err)
	}
	d := open(b, config(s))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.Run("range", func(b *testing.B) {
		var got int
		for b.Loop() {
			list, err := d.ExpiringWithin(ctx, 7*24*time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			got = len(list)
		}
		if got < fresh {
			b.Fatalf("listed %d, want at least the %d fresh passwords", got, fresh)
		}
		b.ReportMetric(float64(got), "entries/op")
	})
	// The baseline the pwdLastSet range avoids: every person, same attributes.
	b.Run("full_scan", func(b *testing.B) {
		c, err := s.Dial()
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if err := c.Bind(testserver.SambaBot.UPN, testserver.SambaBot.Password); err != nil {
			b.Fatal(err)
		}
		var got int
		for b.Loop() {
			res, err := c.SearchWithPaging(ldap.NewSearchRequest(s.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
				0, 0, false, "(&(objectCategory=person)(objectClass=user))",
				[]string{"sAMAccountName", "mail", "displayName", "pwdLastSet", "msDS-UserPasswordExpiryTimeComputed"}, nil), 500)
			if err != nil {
				b.Fatal(err)
			}
			got = len(res.Entries)
		}
		b.ReportMetric(float64(got), "entries/op")
	})
}
