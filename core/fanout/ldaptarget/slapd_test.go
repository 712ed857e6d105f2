package ldaptarget_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/ldap"
	"github.com/resetbot/resetbot/core/fanout"
	"github.com/resetbot/resetbot/core/fanout/ldaptarget"
	"github.com/resetbot/resetbot/core/secret"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/internal/testserver"
)

func ldapConfig(s *testserver.SlapdServer) ldap.Config {
	return ldap.Config{Settings: ldap.Settings{URL: s.URL, StartTLS: true, CAFile: s.CAFile, BindDN: testserver.SlapdBotDN,
		BindPassword: secret.New(testserver.SlapdBotPW), BaseDN: testserver.SlapdBaseDN,
		ProtectedGroups: []string{testserver.SlapdTier0DN},
		DialTimeout:     2 * time.Second, RequestTimeout: 3 * time.Second}, PolicyDN: testserver.SlapdPolicyDN}
}

// whoami runs ldapwhoami with a simple bind over StartTLS, as an operator would.
func whoami(t *testing.T, s *testserver.SlapdServer, dn, pw string) error {
	t.Helper()
	bin, err := exec.LookPath("ldapwhoami")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ldapwhoami missing (ldap-utils)")
		}
		t.Skip("ldapwhoami missing (ldap-utils)")
	}
	cmd := exec.Command(bin, "-x", "-ZZ", "-H", s.URL, "-D", dn, "-w", pw)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+s.CAFile, "LDAPTLS_REQCERT=demand")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return errors.New(out.String())
	}
	return nil
}

type rig struct {
	primary  *ldap.Directory
	a, b     *testserver.SlapdServer
	f        *fanout.Fanout
	now      time.Time
	failures []fanout.Failure
	alice    directory.User
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{a: testserver.Slapd(t), b: testserver.Slapd(t), now: time.Now()}
	ctx := context.Background()
	p, err := ldap.Open(ctx, ldapConfig(r.a))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	r.primary = p
	tg, err := ldaptarget.Config{Name: "lab", Label: "the lab directory", Match: directory.ByEmail,
		OpenDirectory: func(ctx context.Context) (directory.Directory, error) { return ldap.Open(ctx, ldapConfig(r.b)) },
	}.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tg.(fanout.Closer).Close() })
	ring, _ := crypt.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{9}, 32)})
	r.f, err = fanout.New(fanout.Options{Targets: map[string][]fanout.Entry{"corp": {{Target: tg, Timeout: 5 * time.Second}}},
		Store: storemem.New(), Keyring: ring, Now: func() time.Time { return r.now },
		OnFailed: func(_ context.Context, fl fanout.Failure) { r.failures = append(r.failures, fl) }})
	if err != nil {
		t.Fatal(err)
	}
	us, err := p.Find(ctx, directory.ByLogin, "alice")
	if err != nil || len(us) != 1 {
		t.Fatalf("find alice: %v %v", us, err)
	}
	r.alice = us[0]
	r.alice.Directory = "corp"
	return r
}

// reset changes the primary, then fans out, as the flows do.
func (r *rig) reset(t *testing.T, pw string) fanout.Report {
	t.Helper()
	if err := r.primary.ResetPassword(context.Background(), r.alice, secret.New(pw), directory.ResetOptions{}); err != nil {
		t.Fatalf("primary reset: %v", err)
	}
	rep := r.f.Push(context.Background(), fanout.Origin{Ref: "REF-LDAP"}, r.alice, secret.New(pw))
	for _, x := range rep.Results {
		t.Logf("fan-out %s: %s in %s", x.Name, x.Status, x.Latency)
	}
	return rep
}

func TestResetReachesTheSecondDirectory(t *testing.T) {
	r := newRig(t)
	const pw = "Fanned-Out-Passw0rd-1"
	dn := testserver.SlapdUsers[0].DN()
	if rep := r.reset(t, pw); rep.Results[0].Status != fanout.StatusDone {
		t.Fatalf("%+v", rep.Results)
	}
	for name, s := range map[string]*testserver.SlapdServer{"primary": r.a, "target": r.b} {
		if err := whoami(t, s, dn, pw); err != nil {
			t.Errorf("%s: ldapwhoami with the new password: %v", name, err)
		}
		if err := whoami(t, s, dn, testserver.SlapdUsers[0].Password); err == nil {
			t.Errorf("%s: the old password still binds", name)
		}
	}
}

func TestKilledTargetIsRetriedThenSucceeds(t *testing.T) {
	r := newRig(t)
	const pw = "Retried-Passw0rd-22"
	r.b.Stop()
	if rep := r.reset(t, pw); rep.Results[0].Status != fanout.StatusPending {
		t.Fatalf("%+v", rep.Results)
	}
	r.b.Restart(t)
	r.now = r.now.Add(20 * time.Second)
	if n, err := r.f.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	if err := whoami(t, r.b, testserver.SlapdUsers[0].DN(), pw); err != nil {
		t.Fatalf("target after retry: %v", err)
	}
	if len(r.failures) != 0 {
		t.Fatalf("reported failed: %+v", r.failures)
	}
}

func TestTargetDownForTheWholeWindowIsReported(t *testing.T) {
	r := newRig(t)
	r.b.Stop()
	if rep := r.reset(t, "Never-Arrives-Passw0rd-3"); rep.Results[0].Status != fanout.StatusPending {
		t.Fatalf("%+v", rep.Results)
	}
	for range 12 {
		r.now = r.now.Add(30 * time.Second)
		if _, err := r.f.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.failures) != 1 || r.failures[0].Reason != "expired" || r.failures[0].Label != "the lab directory" {
		t.Fatalf("failures %+v", r.failures)
	}
}

func TestTargetPolicyRefusalIsPermanent(t *testing.T) {
	r := newRig(t)
	// The target's ppolicy keeps history: alice's current password there is
	// refused, and retrying cannot change that.
	rep := r.f.Push(context.Background(), fanout.Origin{Ref: "REF-HIST"}, r.alice, secret.New(testserver.SlapdUsers[0].Password))
	if rep.Results[0].Status != fanout.StatusFailed || len(r.failures) != 1 || r.failures[0].Reason != "permanent" {
		t.Fatalf("%+v %+v", rep.Results, r.failures)
	}
}
