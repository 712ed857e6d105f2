package testserver

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SlapdServer is a running throwaway OpenLDAP slapd: mdb database, ppolicy
// overlay (SlapdMinLength, SlapdHistory, lockout after 5 failures), TLS with
// a fresh self-signed certificate for 127.0.0.1, the SlapdUsers fixtures and a
// bot service account (SlapdBotDN) with plain write access so ppolicy applies
// to its resets (the rootdn would bypass it).
type SlapdServer struct {
	// URL is ldap://127.0.0.1:port (StartTLS available).
	URL string
	// LDAPSURL is ldaps://127.0.0.1:port.
	LDAPSURL string
	// CAFile is the PEM file of the self-signed server certificate.
	CAFile string
	// Dir holds the configuration and data.
	Dir string

	bin      string
	port     int
	tlsPort  int
	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	stderr   bytes.Buffer
	stderrMu sync.Mutex
}

// slapdBinaries finds slapd and slapadd, skipping (or failing when servers are
// required) when they are missing; it skips under -short.
func slapdBinaries(t testing.TB) (slapd, slapadd string) {
	t.Helper()
	skipShort(t)
	find := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if p := "/usr/sbin/" + name; fileExists(p) {
			return p
		}
		return ""
	}
	slapd, slapadd = find("slapd"), find("slapadd")
	if slapd == "" || slapadd == "" || !fileExists("/usr/lib/ldap/ppolicy.so") {
		msg := "testserver: slapd, slapadd or the ppolicy module not installed (run .ci/install-deps.sh)"
		missing(t, msg)
	}
	return slapd, slapadd
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// Slapd starts a throwaway slapd for t and stops it when t ends. It takes
// about a quarter of a second.
func Slapd(t testing.TB) *SlapdServer {
	t.Helper()
	bin, slapadd := slapdBinaries(t)
	dir := t.TempDir()
	if err := slapdPrepare(dir, slapadd); err != nil {
		t.Fatalf("testserver: slapd: %v", err)
	}
	s := &SlapdServer{Dir: dir, bin: bin, CAFile: filepath.Join(dir, "cert.pem")}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if s.port, err = slapdFreePort(); err != nil {
			continue
		}
		if s.tlsPort, err = slapdFreePort(); err != nil {
			continue
		}
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("testserver: slapd: %v", err)
	}
	s.URL = "ldap://127.0.0.1:" + strconv.Itoa(s.port)
	s.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(s.tlsPort)
	t.Cleanup(s.Stop)
	return s
}

func slapdFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// slapdRun runs a short command and returns its combined output.
func slapdRun(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

// start runs slapd in the foreground (-d 0 exits in milliseconds on a
// signal; a daemonized slapd takes up to 2 s) and waits until it answers.
func (s *SlapdServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	listen := fmt.Sprintf("ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/", s.port, s.tlsPort)
	cmd := exec.Command(s.bin, "-f", filepath.Join(s.Dir, "slapd.conf"), "-h", listen, "-d", "0")
	cmd.Stdout = slapdWriter{s}
	cmd.Stderr = slapdWriter{s}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("slapd exited: %s", s.log())
		default:
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 200*time.Millisecond); err == nil {
			c.Close()
			s.cmd, s.done = cmd, done
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-done
	return fmt.Errorf("slapd did not answer within 10s: %s", s.log())
}

type slapdWriter struct{ s *SlapdServer }

func (w slapdWriter) Write(p []byte) (int, error) {
	w.s.stderrMu.Lock()
	defer w.s.stderrMu.Unlock()
	if w.s.stderr.Len() < 1<<16 {
		w.s.stderr.Write(p)
	}
	return len(p), nil
}

func (s *SlapdServer) log() string {
	s.stderrMu.Lock()
	defer s.stderrMu.Unlock()
	return s.stderr.String()
}

// Stop kills the server (SIGKILL: a crash, not a clean shutdown) and waits
// for it to exit. Stopping a stopped server does nothing.
func (s *SlapdServer) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd, s.done = nil, nil
}

// Restart starts a stopped server again on the same ports with the same data.
func (s *SlapdServer) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatalf("testserver: slapd restart: %v", err)
	}
}

// TLSConfig trusts the server's self-signed certificate.
func (s *SlapdServer) TLSConfig() *tls.Config {
	pem, err := os.ReadFile(s.CAFile)
	pool := x509.NewCertPool()
	if err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// Signal sends sig to the running server: SIGSTOP makes a directory that
// accepts connections and never answers (a hung DC), SIGCONT resumes it.
func (s *SlapdServer) Signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return fmt.Errorf("testserver: slapd is not running")
	}
	return s.cmd.Process.Signal(sig)
}
