package procrig_test

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
	"github.com/resetbot/resetbot/internal/procrig"
	"github.com/resetbot/resetbot/internal/testserver"
)

// outreachExtra turns the lockout watcher on with short periods.
const outreachExtra = `outreach:
  lockout: {enabled: true, interval: 1s, max_age: 1h}
  lease_ttl: 2s
  rate_per_user: 5
  spray: {accounts: 50, window: 10m, per_source: 5, pause_outreach_on_spray: true}
`

// lockByBinds fails u's bind on slapd until ppolicy locks the account.
func lockByBinds(t *testing.T, s *testserver.SlapdServer, u testserver.SlapdUser) time.Time {
	t.Helper()
	c, err := goldap.DialURL(s.LDAPSURL, goldap.DialWithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 6 {
		if err := c.Bind(u.DN(), "wrong-"+u.Password); !goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
			t.Fatalf("bad bind as %s: %v", u.Login, err)
		}
	}
	return time.Now()
}

var leaseHeld = regexp.MustCompile(`resetbot_outreach_lease_held\{job="watch:lockout:openldap"\} 1`)

// holder waits until exactly one of the replicas reports holding the lease.
func holder(t *testing.T, rs ...*procrig.Serve) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var held []int
		for i, r := range rs {
			if r == nil {
				continue
			}
			if code, body := procrig.Get("http://" + r.Admin + "/metrics"); code == http.StatusOK && leaseHeld.MatchString(body) {
				held = append(held, i)
			}
		}
		if len(held) == 1 {
			return held[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no single replica holds the watcher lease")
	return -1
}

// waitDM waits for the notice in u's DM and returns the detection latency
// (last bad bind to the DM's arrival).
func waitDM(t *testing.T, f *procrig.FakeSlack, u testserver.SlapdUser, ch <-chan procrig.Post, locked time.Time, logs func() string) time.Duration {
	t.Helper()
	select {
	case p := <-ch:
		if !strings.Contains(p.Text, "locked") {
			t.Fatalf("DM to %s is not the lockout notice: %q", u.Login, p.Text)
		}
		return p.At.Sub(locked)
	case <-time.After(30 * time.Second):
		t.Fatalf("no lockout DM to %s\n%s", u.Login, logs())
		return 0
	}
}

// TestLockoutOutreachAcrossReplicas runs two production replicas on one
// Redis and a real slapd, locks accounts with bad binds and sees exactly
// one DM per lockout on the fake Slack, while the lease holder is killed
// (SIGKILL: no release) and a third replica joins and the second is killed
// too. The fixture's own lockout (carol) is sent once as well; the
// administrator's lock is never offered.
func TestLockoutOutreachAcrossReplicas(t *testing.T) {
	b := procrig.Backends{Redis: testserver.Redis(t), Slapd: testserver.Slapd(t), Slack: procrig.NewFakeSlack(t),
		Twilio: twiliotest.New(t)}
	o := procrig.Options{Extra: outreachExtra}
	users := testserver.SlapdUsers
	alice, bob, carol, frank := users[0], users[1], users[2], users[5]
	dm := func(u testserver.SlapdUser) string { return "D" + procrig.SlackUserFor(u.Email) }
	// The fixture's lockout is read by the first poll, as soon as a
	// replica is up.
	carolCh := b.Slack.Expect(dm(carol))
	rs := []*procrig.Serve{procrig.StartServe(t, b, o), procrig.StartServe(t, b, o)}
	logs := func() string {
		var out strings.Builder
		for _, r := range rs {
			if r != nil {
				a, _ := os.ReadFile(r.AuditFile)
				for _, l := range strings.Split(string(a), "\n") {
					if strings.Contains(l, "outreach") {
						out.WriteString(l + "\n")
					}
				}
				out.WriteString(r.Logs())
			}
		}
		return out.String()
	}

	waitDM(t, b.Slack, carol, carolCh, time.Now(), logs)

	first := holder(t, rs...)
	ch := b.Slack.Expect(dm(alice))
	lat := waitDM(t, b.Slack, alice, ch, lockByBinds(t, b.Slapd, alice), logs)
	t.Logf("detection latency (interval 1s): alice %v", lat)

	// Kill the holder mid-run: no lease release, the standby must wait out
	// lease_ttl and take over.
	rs[first].Signal(syscall.SIGKILL)
	rs[first].Wait(10 * time.Second)
	rs[first] = nil
	ch = b.Slack.Expect(dm(bob))
	lat = waitDM(t, b.Slack, bob, ch, lockByBinds(t, b.Slapd, bob), logs)
	t.Logf("detection latency across a killed holder (lease_ttl 2s): bob %v", lat)

	// A fresh replica joins, the survivor is killed: the newcomer resumes
	// from the stored cursor and claims, sending nothing twice.
	second := 1 - first
	rs = append(rs, procrig.StartServe(t, b, o))
	rs[second].Signal(syscall.SIGKILL)
	rs[second].Wait(10 * time.Second)
	rs[second] = nil
	if h := holder(t, rs...); h != 2 {
		t.Fatalf("replica %d holds the lease, want the newcomer", h)
	}
	ch = b.Slack.Expect(dm(frank))
	lat = waitDM(t, b.Slack, frank, ch, lockByBinds(t, b.Slapd, frank), logs)
	t.Logf("detection latency after a restart: frank %v", lat)

	for _, u := range []testserver.SlapdUser{carol, alice, bob, frank} {
		if n := len(b.Slack.Posts(dm(u))); n != 1 {
			t.Errorf("%s got %d DMs, want exactly 1", u.Login, n)
		}
	}
	if n := b.Slack.Total(); n != 4 {
		t.Errorf("%d posts in all, want the 4 notices", n)
	}
}
