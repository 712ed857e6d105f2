package app_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory/ldap"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/testserver"
)

// wrongCA writes a self-signed certificate that signed neither server.
func wrongCA(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "other-ca.pem")
	if _, err := testserver.SelfSignedCert(ca, filepath.Join(dir, "other-key.pem")); err != nil {
		t.Fatal(err)
	}
	return ca
}

// checkFails runs a.Check and wants an error naming the directory and
// holding every fragment, and never the bind password.
func checkFails(t *testing.T, r *rig, bindPW string, fragments ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := r.a.Check(ctx)
	if err == nil {
		t.Fatal("check passed")
	}
	msg := err.Error()
	t.Logf("check error: %s", msg)
	for _, f := range append([]string{"directory"}, fragments...) {
		if !strings.Contains(msg, f) {
			t.Errorf("check error %q does not say %q", msg, f)
		}
	}
	if strings.Contains(msg, bindPW) {
		t.Error("the bind password is in the check error")
	}
}

func checkPasses(t *testing.T, r *rig) {
	t.Helper()
	if err := r.a.Check(context.Background()); err != nil {
		t.Fatalf("check: %v", err)
	}
}

// TestSlapdHealth: Check passes against the running server; fails clearly
// when the server is killed (and passes again after a restart, the bot
// having stayed up), when the CA does not verify and when the bind password
// is wrong.
func TestSlapdHealth(t *testing.T) {
	t.Run("up, down, up", func(t *testing.T) {
		r, s := slapdRig(t)
		checkPasses(t, r)
		s.Stop()
		checkFails(t, r, testserver.SlapdBotPW, "server is down or unreachable", "connection refused")
		// A conversation while the server is down gets a catalogued error,
		// and the bot stays up.
		r.send("slack", "D1", start(flows.FlowReset))
		rep := r.send("slack", "D1", text(slapdAlice.Login))
		if !hasOutput(rep, "common.error") || rep.Ref == "" {
			t.Fatalf("lookup with the server down: %v", ids(rep))
		}
		s.Restart(t)
		checkPasses(t, r)
		r.expect(r.chatReset("D2", slapdAlice.Login, "Lantern-Violet-Ocean-7"), "done", "reset.done")
	})
	t.Run("wrong CA", func(t *testing.T) {
		r, _ := slapdRig(t, func(e *env) { e.SlapdCA = wrongCA(t) })
		checkFails(t, r, testserver.SlapdBotPW, "certificate does not verify", "ca_file")
	})
	t.Run("wrong bind password", func(t *testing.T) {
		s := testserver.Slapd(t)
		cfg := yamlConfig(t, demoHead+slapdDir, slapdEnv(s))
		cfg.Directories[0].Plugin.(*ldap.Config).BindPassword = secret.New("not-the-Bot-pw-9")
		r := newRig(t, cfg)
		checkFails(t, r, "not-the-Bot-pw-9", "invalid credentials", "bind_password")
	})
}

// TestSambaHealth: the same against a Samba AD DC; a frozen DC (SIGSTOP)
// stands for a hung one.
func TestSambaHealth(t *testing.T) {
	t.Run("up, hung, up", func(t *testing.T) {
		r, s := sambaRig(t)
		checkPasses(t, r)
		resume := s.Pause(t)
		checkFails(t, r, testserver.SambaBot.Password, `directory "samba"`, "timed out")
		resume()
		checkPasses(t, r)
	})
	t.Run("wrong CA", func(t *testing.T) {
		r, _ := sambaRig(t, func(e *env) { e.SambaCA = wrongCA(t) })
		checkFails(t, r, testserver.SambaBot.Password, "certificate does not verify")
	})
	t.Run("killed", func(t *testing.T) {
		r, s := sambaRig(t)
		checkPasses(t, r)
		sambaKill(t, s)
		checkFails(t, r, testserver.SambaBot.Password, `directory "samba"`, "connection refused")
	})
}

// sambaKill kills the DC's process group (the helper has no Stop; its
// cleanup tolerates a dead DC) and waits until its port is closed.
func sambaKill(t *testing.T, s *testserver.SambaServer) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir, "run", "samba.pid"))
	if err != nil {
		t.Fatalf("samba pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		t.Fatalf("samba pid %q: %v", b, err)
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill samba: %v", err)
	}
	for range 500 {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(s.IP, "636"), 100*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("samba still answers after SIGKILL")
}
