package lockout_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/ad"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/testserver"
)

// seedSamba adds n enabled users to the People OU as the domain
// Administrator over conns connections; the first 10 have a password.
func seedSamba(b *testing.B, s *testserver.SambaServer, n, conns int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	pw := testserver.SambaUnicodePwd(seedPassword)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.Dial()
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := c.Bind(testserver.SambaAdministrator.UPN, testserver.SambaAdminPassword); err != nil {
				errs <- err
				return
			}
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				uid := fmt.Sprintf("seed%05d", i)
				a := goldap.NewAddRequest("CN="+uid+","+testserver.SambaPeopleOU, nil)
				a.Attribute("objectClass", []string{"user"})
				a.Attribute("sAMAccountName", []string{uid})
				a.Attribute("userPrincipalName", []string{uid + "@" + s.Domain})
				a.Attribute("mail", []string{uid + "@example.org"})
				if i < 10 {
					// The ten that get locked need a password.
					a.Attribute("unicodePwd", []string{pw})
					a.Attribute("userAccountControl", []string{"512"})
				} else {
					// The rest is bulk: NORMAL_ACCOUNT | PASSWD_NOTREQD, no
					// password hashing, so 10,000 adds fit a test run.
					a.Attribute("userAccountControl", []string{"544"})
				}
				if err := c.Add(a); err != nil {
					errs <- fmt.Errorf("add %s: %w", uid, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// BenchmarkSambaLockoutPoll measures the uSNChanged read on a Samba AD DC
// holding RESETBOT_SAMBA_SEED seeded users, 10 of them locked by bad
// binds. The default is 1,000: a Samba add takes ~60 ms here, so the
// 10,000 of docs/outreach.md (RESETBOT_SAMBA_SEED=10000) take ~12 minutes
// to seed, too long for `make bench`.
func BenchmarkSambaLockoutPoll(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("RESETBOT_SAMBA_SEED")); err == nil && v > 0 {
		n = v
	}
	s := testserver.SambaDC(b)
	start := time.Now()
	seedSamba(b, s, n, 4)
	b.Logf("seeded %d users in %v", n, time.Since(start).Round(time.Millisecond))
	d, err := ad.Open(context.Background(), ad.Config{Name: "corp", Settings: ad.Settings{URL: s.URL, CAFile: s.CAFile,
		BindDN: testserver.SambaBot.UPN, BindPassword: secret.New(testserver.SambaBot.Password),
		BaseDN: s.BaseDN}, Domain: s.Domain})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = d.Close() })
	ctx := context.Background()
	since := time.Now().Add(-15 * time.Minute)
	first, err := d.Lockouts(ctx, directory.LockoutQuery{Since: since})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10 {
		c, err := s.Dial()
		if err != nil {
			b.Fatal(err)
		}
		for range 3 {
			_ = c.Bind(fmt.Sprintf("seed%05d@%s", i, s.Domain), "wrong-"+seedPassword)
		}
		c.Close()
	}
	run := func(name string, q directory.LockoutQuery) {
		b.Run(name, func(b *testing.B) {
			entries, locks := 0, 0
			for b.Loop() {
				r, err := d.Lockouts(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				entries, locks = r.Entries, len(r.Lockouts)
			}
			b.ReportMetric(float64(entries), "entries/op")
			b.ReportMetric(float64(locks), "lockouts/op")
		})
	}
	run("full", directory.LockoutQuery{Since: since})
	run("incremental_10_new", directory.LockoutQuery{Cursor: first.Cursor, Since: since})
	latest, err := d.Lockouts(ctx, directory.LockoutQuery{Cursor: first.Cursor, Since: since})
	if err != nil {
		b.Fatal(err)
	}
	run("incremental_idle", directory.LockoutQuery{Cursor: latest.Cursor, Since: since})
}
