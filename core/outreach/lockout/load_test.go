package lockout_test

import (
	"context"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/internal/testserver"
)

// seededUsers is the directory size the load numbers are quoted for.
const seededUsers = 10000

// BenchmarkSlapdLockoutPoll10k measures one lockout read on a slapd
// holding 10,000 seeded people, 10 of them locked: the full first read
// (bounded by max_age), the incremental read with nothing new (what
// every 30 s poll costs), and the incremental read that finds 10 new
// lockouts. entries/op is what crossed the network.
func BenchmarkSlapdLockoutPoll10k(b *testing.B) {
	s := testserver.Slapd(b)
	start := time.Now()
	seedSlapd(b, s, seededUsers, 4)
	b.Logf("seeded %d users in %v", seededUsers, time.Since(start).Round(time.Millisecond))
	d := openSlapd(b, s)
	since := time.Now().Add(-15 * time.Minute)
	ctx := context.Background()
	first, err := d.Lockouts(ctx, directory.LockoutQuery{Since: since})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10 {
		lockSeeded(b, s, i)
	}
	run := func(name string, q func() directory.LockoutQuery) {
		b.Run(name, func(b *testing.B) {
			entries := 0
			for b.Loop() {
				r, err := d.Lockouts(ctx, q())
				if err != nil {
					b.Fatal(err)
				}
				entries = r.Entries
			}
			b.ReportMetric(float64(entries), "entries/op")
		})
	}
	run("full", func() directory.LockoutQuery { return directory.LockoutQuery{Since: since} })
	run("incremental_10_new", func() directory.LockoutQuery {
		return directory.LockoutQuery{Cursor: first.Cursor, Since: since}
	})
	latest, err := d.Lockouts(ctx, directory.LockoutQuery{Cursor: first.Cursor, Since: since})
	if err != nil {
		b.Fatal(err)
	}
	run("incremental_idle", func() directory.LockoutQuery {
		return directory.LockoutQuery{Cursor: latest.Cursor, Since: since}
	})
	// What a naive watcher would cost: reading every person each poll.
	b.Run("baseline_scan_all", func(b *testing.B) {
		c, err := goldap.DialURL(s.LDAPSURL, goldap.DialWithTLSConfig(s.TLSConfig()))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		// The root DN: the service account hits slapd's default size limit (500).
		if err := c.Bind(testserver.SlapdRootDN, testserver.SlapdRootPW); err != nil {
			b.Fatal(err)
		}
		entries := 0
		for b.Loop() {
			res, err := c.SearchWithPaging(goldap.NewSearchRequest(testserver.SlapdPeopleDN, goldap.ScopeWholeSubtree,
				goldap.NeverDerefAliases, 0, 0, false, "(objectClass=inetOrgPerson)",
				[]string{"uid", "mail", "pwdAccountLockedTime"}, nil), 500)
			if err != nil {
				b.Fatal(err)
			}
			entries = len(res.Entries)
		}
		b.ReportMetric(float64(entries), "entries/op")
	})
}
