package testserver

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Names of the throwaway MIT Kerberos realm.
const (
	KDCRealm = "TEST.REALM"
	// KDCAdmin is the service principal resetbot authenticates as (keytab);
	// kadm5.acl gives it change-password and inquire rights on every principal.
	KDCAdmin = "resetbot/admin@" + KDCRealm
	// KDCMinLength and KDCHistory are the "users" policy every fixture
	// principal is under.
	KDCMinLength = 10
	KDCHistory   = 3
)

// KDCUser is a fixture principal (name@KDCRealm).
type KDCUser struct{ Name, Password string }

// KDCUsers are the fixture principals.
var KDCUsers = []KDCUser{
	{Name: "alice", Password: "Alice-Krb-Initial-1"},
	{Name: "bob", Password: "Bob-Krb-Initial-1"},
}

// KDCServer is a running throwaway MIT KDC (krb5kdc) with its admin server
// (kadmind) on loopback, in a database of its own.
type KDCServer struct {
	// Dir holds the configuration, database, keytab and logs.
	Dir string
	// Krb5Conf is the client configuration pointing at this realm.
	Krb5Conf string
	// Keytab holds KDCAdmin's key.
	Keytab string
	// AdminServer is 127.0.0.1:port of kadmind.
	AdminServer string

	kdcPort, adminPort, pwPort int
	mu                         sync.Mutex
	procs                      []*exec.Cmd
	dones                      []chan struct{}
}

func kdcBinaries(t testing.TB) map[string]string {
	t.Helper()
	skipShort(t)
	out := map[string]string{}
	for _, name := range []string{"krb5kdc", "kadmind", "kdb5_util", "kadmin.local", "kadmin", "kinit"} {
		if p, err := exec.LookPath(name); err == nil {
			out[name] = p
		} else if p := "/usr/sbin/" + name; fileExists(p) {
			out[name] = p
		} else {
			msg := "testserver: " + name + " not installed (krb5-kdc, krb5-admin-server, krb5-user; run .ci/install-deps.sh)"
			missing(t, msg)
		}
	}
	return out
}

// KDC starts a throwaway KDC and kadmind for t and stops them when t ends.
func KDC(t testing.TB) *KDCServer {
	t.Helper()
	bins := kdcBinaries(t)
	s := &KDCServer{Dir: t.TempDir()}
	s.Krb5Conf = filepath.Join(s.Dir, "krb5.conf")
	s.Keytab = filepath.Join(s.Dir, "resetbot.keytab")
	var err error
	for range 3 {
		if err = s.ports(); err == nil {
			if err = s.prepare(bins); err == nil {
				if err = s.start(); err == nil {
					break
				}
			}
		}
	}
	if err != nil {
		t.Fatalf("testserver: kdc: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *KDCServer) ports() error {
	for _, p := range []*int{&s.kdcPort, &s.adminPort, &s.pwPort} {
		var err error
		if *p, err = slapdFreePort(); err != nil {
			return err
		}
	}
	s.AdminServer = "127.0.0.1:" + strconv.Itoa(s.adminPort)
	return nil
}

// Env is the environment that points krb5 tools at this realm.
func (s *KDCServer) Env() []string {
	return append(os.Environ(), "KRB5_CONFIG="+s.Krb5Conf, "KRB5_KDC_PROFILE="+filepath.Join(s.Dir, "kdc.conf"),
		"KRB5CCNAME=FILE:"+filepath.Join(s.Dir, "ccache"))
}

func (s *KDCServer) prepare(bins map[string]string) error {
	d := s.Dir
	krb5 := fmt.Sprintf(`[libdefaults]
  default_realm = %[1]s
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  udp_preference_limit = 1
[realms]
  %[1]s = {
    kdc = 127.0.0.1:%[2]d
    admin_server = 127.0.0.1:%[3]d
    kpasswd_server = 127.0.0.1:%[4]d
  }
`, KDCRealm, s.kdcPort, s.adminPort, s.pwPort)
	kdc := fmt.Sprintf(`[kdcdefaults]
  kdc_ports = %[2]d
  kdc_tcp_ports = %[2]d
[realms]
  %[1]s = {
    database_name = %[5]s/principal
    acl_file = %[5]s/kadm5.acl
    key_stash_file = %[5]s/stash
    kdc_ports = %[2]d
    kdc_tcp_ports = %[2]d
    kadmind_port = %[3]d
    kpasswd_port = %[4]d
    max_life = 1h
  }
[logging]
  kdc = FILE:%[5]s/kdc.log
  admin_server = FILE:%[5]s/kadmind.log
`, KDCRealm, s.kdcPort, s.adminPort, s.pwPort, d)
	files := map[string]string{"krb5.conf": krb5, "kdc.conf": kdc, "kadm5.acl": KDCAdmin + " ci *@" + KDCRealm + "\n"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(body), 0o600); err != nil {
			return err
		}
	}
	_ = os.Remove(filepath.Join(d, "principal"))
	if out, err := s.run(bins["kdb5_util"], "create", "-s", "-r", KDCRealm, "-P", "kdc-Master-pw-1"); err != nil {
		return fmt.Errorf("kdb5_util create: %v: %s", err, out)
	}
	qs := []string{
		fmt.Sprintf("addpol -minlength %d -history %d users", KDCMinLength, KDCHistory),
		"addprinc -randkey " + KDCAdmin,
		"ktadd -k " + s.Keytab + " " + KDCAdmin,
	}
	for _, u := range KDCUsers {
		qs = append(qs, fmt.Sprintf("addprinc -policy users -pw %s %s", u.Password, u.Name))
	}
	for _, q := range qs {
		out, err := s.run(bins["kadmin.local"], "-q", q)
		if err != nil || strings.Contains(string(out), "rror") {
			return fmt.Errorf("kadmin.local %q: %v: %s", strings.Fields(q)[0], err, out)
		}
	}
	return nil
}

func (s *KDCServer) run(bin string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = s.Env()
	return cmd.CombinedOutput()
}

// start runs krb5kdc and kadmind in the foreground and waits until both answer.
func (s *KDCServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range []struct {
		args []string
		port int
	}{
		{[]string{"krb5kdc", "-n", "-P", filepath.Join(s.Dir, "kdc.pid")}, s.kdcPort},
		{[]string{"kadmind", "-nofork", "-P", filepath.Join(s.Dir, "kadmind.pid")}, s.adminPort},
	} {
		bin, err := exec.LookPath(c.args[0])
		if err != nil {
			bin = "/usr/sbin/" + c.args[0]
		}
		cmd := exec.Command(bin, c.args[1:]...)
		cmd.Env = s.Env()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			s.stopLocked()
			return err
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		s.procs, s.dones = append(s.procs, cmd), append(s.dones, done)
		if err := waitPort(c.port, done); err != nil {
			s.stopLocked()
			return fmt.Errorf("%s: %w", c.args[0], err)
		}
	}
	return nil
}

func waitPort(port int, done chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("exited")
		default:
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("did not answer within 10s")
}

// Stop kills the KDC and kadmind (SIGKILL, a crash). Stopping twice does nothing.
func (s *KDCServer) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *KDCServer) stopLocked() {
	for i, c := range s.procs {
		_ = c.Process.Kill()
		<-s.dones[i]
	}
	s.procs, s.dones = nil, nil
}

// Restart starts a stopped realm again on the same ports with the same data.
func (s *KDCServer) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatalf("testserver: kdc restart: %v", err)
	}
}

// Kinit gets a ticket for name@KDCRealm with pw, as a user would; nil means
// the password is right.
func (s *KDCServer) Kinit(name, pw string) error {
	cmd := exec.Command("kinit", name+"@"+KDCRealm)
	cmd.Env = s.Env()
	cmd.Stdin = strings.NewReader(pw + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kinit: %v: %s", err, out)
	}
	return nil
}
