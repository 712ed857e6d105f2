package testserver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// SambaServer is a running throwaway Samba AD DC holding the fixtures of
// samba_fixture.go. It listens on its own loopback address (ports 389 and 636
// are fixed in Samba) and is killed when the test ends.
type SambaServer struct {
	// IP is the loopback address the DC listens on (127.0.0.N).
	IP string
	// URL is ldaps://IP:636; StartTLSURL is ldap://IP:389.
	URL, StartTLSURL string
	// CAFile holds the PEM certificate of the CA that signed the DC's
	// certificate (whose SANs are IP and SambaServerName); CAPEM is its content.
	CAFile string
	CAPEM  []byte
	// ServerName is the DNS name in the DC's certificate.
	ServerName string
	// BaseDN and Domain (the UPN suffix) of the test domain.
	BaseDN, Domain string
	// Dir is the DC's private directory (removed at cleanup).
	Dir string

	cmd  *exec.Cmd
	done chan struct{}
}

// SambaOptions tune a throwaway DC.
type SambaOptions struct {
	// PlainBind lets simple binds run over plain LDAP on port 389
	// ("ldap server require strong auth = no"), so a client can be tested
	// for refusing to send a password over a plain connection itself.
	PlainBind bool
}

// SambaServerName is the DNS name in every test DC's certificate.
const SambaServerName = "dc1.samdom.example.org"

// SambaDC starts a throwaway Samba AD DC for t, cloned from a golden DC that
// is provisioned once and cached under $TMPDIR (or $TESTSERVER_SAMBA_CACHE).
// The DC process is killed and its directory removed when t ends.
func SambaDC(t testing.TB) *SambaServer {
	t.Helper()
	return SambaDCWith(t, SambaOptions{})
}

// SambaDCWith is SambaDC with options.
func SambaDCWith(t testing.TB, opts SambaOptions) *SambaServer {
	t.Helper()
	version := sambaRequire(t)
	golden, err := sambaGolden(version)
	if err != nil {
		t.Fatalf("samba: golden DC: %v", err)
	}
	ip, release, err := sambaClaimIP()
	if err != nil {
		t.Fatalf("samba: %v", err)
	}
	sambaSweep()
	dir, err := os.MkdirTemp("", "resetbot-samba-dc-")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600)
	}
	if err != nil {
		release()
		t.Fatal(err)
	}
	s := &SambaServer{IP: ip, URL: "ldaps://" + ip + ":636", StartTLSURL: "ldap://" + ip + ":389",
		ServerName: SambaServerName, BaseDN: SambaBaseDN, Domain: SambaDomain, Dir: dir}
	t.Cleanup(func() {
		s.stop()
		os.RemoveAll(dir)
		release()
	})
	if err := s.clone(golden, opts); err != nil {
		t.Fatalf("samba: clone golden DC: %v", err)
	}
	if err := s.start(); err != nil {
		t.Fatalf("samba: %v", err)
	}
	return s
}

// sambaSweep removes DC directories left by test processes that died
// without running their cleanups (a test timeout panics past t.Cleanup; the
// DC itself dies with its parent through Pdeathsig).
func sambaSweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "resetbot-samba-dc-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue // being created, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && pid > 0 && syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(d)
		}
	}
}

var (
	sambaVersionOnce sync.Once
	sambaVersion     string
	sambaVersionErr  error
)

// sambaRequire skips (or, when servers are required, fails) t when Samba cannot
// run here, skips it under -short, and returns the Samba version.
func sambaRequire(t testing.TB) string {
	t.Helper()
	skipShort(t)
	miss := func(why string) {
		t.Helper()
		missing(t, "samba: "+why)
	}
	for _, bin := range []string{"samba", "samba-tool", "ldbmodify", "ldbsearch", "cp"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err2 := os.Stat("/usr/sbin/" + bin); err2 != nil {
				miss(bin + " not installed")
			}
		}
	}
	if os.Geteuid() != 0 {
		miss("a Samba DC needs root (it binds ports 389 and 636)")
	}
	sambaVersionOnce.Do(func() {
		var out []byte
		out, sambaVersionErr = exec.Command(sambaBin(), "--version").Output()
		sambaVersion = strings.TrimSpace(string(out))
	})
	if sambaVersionErr != nil {
		miss("samba --version: " + sambaVersionErr.Error())
	}
	return sambaVersion
}

func sambaBin() string {
	if p, err := exec.LookPath("samba"); err == nil {
		return p
	}
	return "/usr/sbin/samba"
}

// sambaClaimIP picks a free loopback address 127.0.0.N for a DC. A lock file
// per address (held until release) keeps test processes from picking the same
// one; a trial bind of 389 and 636 skips addresses used by anything else.
func sambaClaimIP() (string, func(), error) {
	lockDir := filepath.Join(os.TempDir(), "resetbot-samba-ip")
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return "", nil, err
	}
	const lo, hi = 20, 250
	start := os.Getpid() % (hi - lo)
	for i := range hi - lo {
		ip := fmt.Sprintf("127.0.0.%d", lo+(start+i)%(hi-lo))
		f, err := os.OpenFile(filepath.Join(lockDir, ip+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return "", nil, err
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close()
			continue
		}
		if !sambaPortsFree(ip) {
			f.Close()
			continue
		}
		// Closing the file releases the flock; the kernel also drops it if
		// the test process dies.
		return ip, func() { f.Close() }, nil
	}
	return "", nil, errors.New("no free loopback address for a DC")
}

func sambaPortsFree(ip string) bool {
	for _, port := range []string{"389", "636"} {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, port))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// clone copies the stopped golden DC into s.Dir, points smb.conf at it and at
// s.IP, and gives it a fresh certificate for s.IP.
func (s *SambaServer) clone(golden string, opts SambaOptions) error {
	// cp -a keeps the xattrs Samba stores ACLs in; the copy is ~33 MB.
	if out, err := exec.Command("cp", "-a", "--reflink=auto", golden+"/.", s.Dir).CombinedOutput(); err != nil {
		return fmt.Errorf("cp: %w: %s", err, out)
	}
	os.Remove(filepath.Join(s.Dir, ".ready"))
	conf := filepath.Join(s.Dir, "etc", "smb.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	c := strings.ReplaceAll(string(b), golden, s.Dir)
	c = regexp.MustCompile(`(?m)^(\s*interfaces = ).*$`).ReplaceAllString(c, "${1}"+s.IP+"/8")
	if err := os.WriteFile(conf, []byte(c), 0o644); err != nil {
		return err
	}
	tlsDir := filepath.Join(s.Dir, "mytls")
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		return err
	}
	ca, cert, key, err := sambaCerts(s.IP)
	if err != nil {
		return err
	}
	s.CAPEM, s.CAFile = ca, filepath.Join(tlsDir, "ca.pem")
	for name, data := range map[string][]byte{"ca.pem": ca, "cert.pem": cert, "key.pem": key} {
		if err := os.WriteFile(filepath.Join(tlsDir, name), data, 0o600); err != nil {
			return err
		}
	}
	lines := []string{
		"tls keyfile = " + filepath.Join(tlsDir, "key.pem"),
		"tls certfile = " + filepath.Join(tlsDir, "cert.pem"),
		"tls cafile = " + s.CAFile,
	}
	if opts.PlainBind {
		lines = append(lines, "ldap server require strong auth = no")
	}
	return sambaEditConf(conf, lines)
}

// start runs the DC in the foreground (one process, -M single) in its own
// process group, and waits until the bot can bind over LDAPS.
func (s *SambaServer) start() error {
	out, err := os.Create(filepath.Join(s.Dir, "samba.out"))
	if err != nil {
		return err
	}
	defer out.Close()
	s.cmd = exec.Command(sambaBin(), "-s", filepath.Join(s.Dir, "etc", "smb.conf"),
		"-F", "-M", "single", "--debug-stdout")
	s.cmd.Stdout, s.cmd.Stderr = out, out
	// Own process group so cleanup kills everything it forks; Pdeathsig
	// kills it if the test binary dies without running cleanups.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start samba: %w", err)
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }() //nolint:errcheck
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := s.Bind(SambaBot.UPN, SambaBot.Password)
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("samba exited early; log:\n%s", s.logTail())
		case <-time.After(30 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("samba not ready after 60 s (%v); log:\n%s", err, s.logTail())
		}
	}
}

func (s *SambaServer) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "samba.out"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// stop kills the DC's process group; the clone is thrown away, so there is
// no need for the 1.5 s graceful SIGTERM shutdown.
func (s *SambaServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// Pause freezes the DC (SIGSTOP): connections stay open but nothing is
// answered, as with a hung server. The returned function resumes it; it also
// runs at cleanup.
func (s *SambaServer) Pause(t testing.TB) (resume func()) {
	t.Helper()
	if err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("samba: pause: %v", err)
	}
	var once sync.Once
	resume = func() {
		once.Do(func() { syscall.Kill(-s.cmd.Process.Pid, syscall.SIGCONT) }) //nolint:errcheck
	}
	t.Cleanup(resume)
	return resume
}

// TLSConfig returns a client TLS configuration that trusts the DC's CA.
func (s *SambaServer) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM)
	return &tls.Config{RootCAs: pool, ServerName: s.IP, MinVersion: tls.VersionTLS12}
}

// Dial opens an LDAPS connection to the DC (not bound).
func (s *SambaServer) Dial() (*ldap.Conn, error) {
	c, err := ldap.DialURL(s.URL, ldap.DialWithTLSConfig(s.TLSConfig()),
		ldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
	if err != nil {
		return nil, err
	}
	c.SetTimeout(10 * time.Second)
	return c, nil
}

// Bind checks a name (UPN or DN) and password with a simple bind over LDAPS.
// A wrong password gives an *ldap.Error with code 49 whose diagnostic holds
// the AD sub-code ("data 52e" wrong password, "775" locked, "773" must change).
func (s *SambaServer) Bind(name, password string) error {
	c, err := s.Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Bind(name, password)
}

// Admin returns an LDAPS connection bound as the domain Administrator; it is
// closed when t ends.
func (s *SambaServer) Admin(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := s.Dial()
	if err != nil {
		t.Fatalf("samba: dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(SambaAdministrator.UPN, SambaAdminPassword); err != nil {
		t.Fatalf("samba: admin bind: %v", err)
	}
	return c
}

// Lock locks u out the way a user would: by failed binds until the domain's
// lockout threshold (3) is reached.
func (s *SambaServer) Lock(t testing.TB, u SambaUser) {
	t.Helper()
	for range 3 {
		if err := s.Bind(u.UPN, "wrong-"+u.Password); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			t.Fatalf("samba: failed bind for %s: want invalid credentials, got %v", u.Login, err)
		}
	}
}
