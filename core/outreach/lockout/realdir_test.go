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

	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/ad"
	"github.com/resetbot/resetbot/core/directory/ldap"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/outreach/lease"
	"github.com/resetbot/resetbot/core/outreach/lockout"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
)

// seedPassword is every seeded account's password.
const seedPassword = "Seed-Initial-Pw1"

// seedSlapd adds n people (uid seed00000...) to slapd as the root DN over
// conns parallel connections: the bulk add the load numbers need.
func seedSlapd(t testing.TB, s *testserver.SlapdServer, n, conns int) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := goldap.DialURL(s.LDAPSURL, goldap.DialWithTLSConfig(s.TLSConfig()))
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := c.Bind(testserver.SlapdRootDN, testserver.SlapdRootPW); err != nil {
				errs <- err
				return
			}
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				uid := fmt.Sprintf("seed%05d", i)
				a := goldap.NewAddRequest("uid="+uid+","+testserver.SlapdPeopleDN, nil)
				a.Attribute("objectClass", []string{"inetOrgPerson"})
				a.Attribute("uid", []string{uid})
				a.Attribute("cn", []string{"Seed " + uid})
				a.Attribute("sn", []string{"Seed"})
				a.Attribute("mail", []string{uid + "@example.org"})
				a.Attribute("userPassword", []string{seedPassword})
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
		t.Fatal(err)
	}
}

// lockSeeded locks seeded account i by bad binds (pwdMaxFailure 5).
func lockSeeded(t testing.TB, s *testserver.SlapdServer, i int) {
	t.Helper()
	c, err := goldap.DialURL(s.LDAPSURL, goldap.DialWithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dn := fmt.Sprintf("uid=seed%05d,%s", i, testserver.SlapdPeopleDN)
	for range 5 {
		if err := c.Bind(dn, "wrong-"+seedPassword); !goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
			t.Fatalf("bad bind %s: %v", dn, err)
		}
	}
}

func openSlapd(t testing.TB, s *testserver.SlapdServer) *ldap.Directory {
	t.Helper()
	d, err := ldap.Open(context.Background(), ldap.Config{Settings: ldap.Settings{URL: s.LDAPSURL, CAFile: s.CAFile,
		BindDN: testserver.SlapdBotDN, BindPassword: secret.New(testserver.SlapdBotPW),
		BaseDN: testserver.SlapdPeopleDN, PoolSize: 2}, PolicyDN: testserver.SlapdPolicyDN})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

var redisPrefix atomic.Int64

func openRedis(t testing.TB) store.Store {
	t.Helper()
	st, err := redis.Open(context.Background(), redis.Config{Addrs: []string{testserver.SharedRedis(t)},
		KeyPrefix: "lw" + strconv.FormatInt(redisPrefix.Add(1), 10) + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// chatAll maps every directory user with an email to a chat user.
type chatAll struct{ fakeChat }

func (c *chatAll) Resolve(_ context.Context, u directory.User) (outreach.Recipient, error) {
	if u.Email == "" {
		return outreach.Recipient{}, outreach.ErrUnmapped
	}
	return outreach.Recipient{Channel: "slack", User: "T1:" + u.Email}, nil
}

// TestSprayOfTwentyOnSlapd locks 20 accounts on a real slapd by bad binds:
// one poll raises one lockout_spray alert and, with the pause on, sends no
// DM; the fixture's older lock is outside max_age.
func TestSprayOfTwentyOnSlapd(t *testing.T) {
	s := testserver.Slapd(t)
	seedSlapd(t, s, 20, 2)
	d := openSlapd(t, s)
	st := openRedis(t)
	chat := &chatAll{}
	var alerts []alarm.Alert
	keys, _ := outreach.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	rec := &audit.Recorder{}
	w, err := lockout.New(lockout.Options{Directory: "openldap", Source: d, Dir: d, Store: st, Keys: keys,
		Messengers: []outreach.DirectMessenger{chat}, Audit: rec, MaxAge: time.Minute,
		Spray: lockout.Spray{Accounts: 10, Window: 10 * time.Minute, Pause: true},
		Alarm: alarm.NotifierFunc(func(_ context.Context, a alarm.Alert) error { alerts = append(alerts, a); return nil })})
	if err != nil {
		t.Fatal(err)
	}
	// A first poll sets the cursor; the fixture lock may fall inside max_age.
	if _, err := w.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	sentBefore := chat.count()
	for i := range 20 {
		lockSeeded(t, s, i)
	}
	ps, err := w.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ps.New != 20 || !ps.Wave || ps.Sent != 0 {
		t.Fatalf("poll = %+v, want 20 new lockouts in a wave, none sent", ps)
	}
	if len(alerts) != 1 || alerts[0].Rule != lockout.RuleSpray || alerts[0].Count < 20 {
		t.Fatalf("alerts = %+v, want one lockout_spray of 20", alerts)
	}
	if n := chat.count() - sentBefore; n != 0 {
		t.Fatalf("%d DMs during a paused wave", n)
	}
	paused := 0
	for _, e := range rec.Find(lockout.EventName) {
		if e.Reason == lockout.ReasonSprayPaused {
			paused++
		}
	}
	if paused != 20 {
		t.Fatalf("%d lockouts audited spray_paused, want 20", paused)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	testserver.StopShared()
	os.Exit(code)
}

// crashLease is a Lease whose holder can die: once dead it neither renews
// nor releases, as a killed process would not.
type crashLease struct {
	lease.Lease
	dead atomic.Bool
}

func (c *crashLease) Renew(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if c.dead.Load() {
		return false, nil
	}
	return c.Lease.Renew(ctx, name, owner, ttl)
}

func (c *crashLease) Release(ctx context.Context, name, owner string) error {
	if c.dead.Load() {
		return nil
	}
	return c.Lease.Release(ctx, name, owner)
}

func (c *chatAll) sentTo(user string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.to {
		if r.User == user {
			n++
		}
	}
	return n
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSambaTwoWatchersOneKilled runs two watchers of one Samba AD DC on
// one real Redis under the lease, locks accounts by bad binds and kills
// the holder mid-run (no renewal, no release): exactly one DM per lockout.
func TestSambaTwoWatchersOneKilled(t *testing.T) {
	s := testserver.SambaDC(t)
	d, err := ad.Open(context.Background(), ad.Config{Name: "corp", Settings: ad.Settings{URL: s.URL, CAFile: s.CAFile,
		BindDN: testserver.SambaBot.UPN, BindPassword: secret.New(testserver.SambaBot.Password),
		BaseDN: s.BaseDN}, Domain: s.Domain})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	st := openRedis(t)
	chat := &chatAll{}
	keys, _ := outreach.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	var held [2]atomic.Bool
	var cancels [2]context.CancelFunc
	leases := [2]*crashLease{{Lease: lease.New(st)}, {Lease: lease.New(st)}}
	var wg sync.WaitGroup
	for i := range 2 {
		w, err := lockout.New(lockout.Options{Directory: "corp", Source: d, Dir: d, Store: st, Keys: keys,
			Messengers: []outreach.DirectMessenger{chat}, Interval: 200 * time.Millisecond, MaxAge: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		r := &lease.Runner{Lease: leases[i], Name: w.LeaseName(), Owner: lease.NewOwner(), TTL: time.Second,
			OnChange: func(h bool) { held[i].Store(h) }}
		var ctx context.Context
		ctx, cancels[i] = context.WithCancel(context.Background())
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx, w.Run) }()
	}
	t.Cleanup(func() { cancels[0](); cancels[1](); wg.Wait() })
	waitUntil(t, "a lease holder", func() bool { return held[0].Load() || held[1].Load() })
	s.Lock(t, testserver.SambaJDoe)
	waitUntil(t, "jdoe's DM", func() bool { return chat.sentTo("T1:"+testserver.SambaJDoe.Email) == 1 })
	h := 0
	if held[1].Load() {
		h = 1
	}
	leases[h].dead.Store(true)
	cancels[h]()
	s.Lock(t, testserver.SambaASmith)
	waitUntil(t, "asmith's DM from the other watcher", func() bool {
		return chat.sentTo("T1:"+testserver.SambaASmith.Email) == 1
	})
	if !held[1-h].Load() {
		t.Fatal("the survivor does not hold the lease")
	}
	// A few more polls by the survivor re-read nothing new.
	time.Sleep(time.Second)
	// The fixture's own locked account was locked when the golden DC was
	// provisioned: less than max_age ago when this test runs right after,
	// it gets its one DM too (a real lockout, correctly offered).
	fixture := chat.sentTo("T1:" + testserver.SambaLocked.Email)
	t.Logf("DMs for the fixture's lock: %d", fixture)
	for _, u := range []testserver.SambaUser{testserver.SambaJDoe, testserver.SambaASmith} {
		if n := chat.sentTo("T1:" + u.Email); n != 1 {
			t.Errorf("%d DMs to %s, want exactly 1", n, u.Login)
		}
	}
	if n := chat.count() - fixture; n != 2 || fixture > 1 {
		t.Fatalf("%d DMs for the test's lockouts and %d for the fixture's, want exactly 2 and at most 1", n, fixture)
	}
}
