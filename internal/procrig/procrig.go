// Package procrig runs `resetbot serve` as real processes for the load test
// (internal/loadtest) and the fault tests (internal/faulttest): it builds
// the binary once, writes a production configuration against a throwaway
// redis-server and slapd (internal/testserver) and a fake Slack Web API,
// starts replicas on free loopback ports, signs Slack and Twilio webhooks
// the way the platforms do, and reads a process's CPU time and peak RSS
// from /proc.
//
// Everything listens on 127.0.0.1 and stops in t.Cleanup. It is test code:
// nothing here is reachable from a production configuration.
package procrig

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
	"github.com/resetbot/resetbot/internal/testserver"
)

// Credentials the rig configures and signs with. They are test values.
const (
	SlackSigningSecret = "procrig-signing-secret-0123456789"
	SlackBotToken      = "xoxb-procrig"
	TwilioAccountSID   = twiliotest.AccountSID
	TwilioAuthToken    = twiliotest.AuthToken
	PublicURL          = "https://resetbot.procrig.test"
	// SlackTeam is the workspace of every simulated Slack user.
	SlackTeam = "T0PROCRIG"
)

var build struct {
	once sync.Once
	bin  string
	err  error
}

// Binary builds cmd/resetbot once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "procrig-bin-")
		if err != nil {
			build.err = err
			return
		}
		build.bin = filepath.Join(dir, "resetbot")
		// The tags the Makefile and deploy/Containerfile build with, so
		// that the load test measures the shipped binary's memory.
		cmd := exec.Command("go", "build", "-tags", "grpcnotrace", "-o", build.bin, "./cmd/resetbot")
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatalf("procrig: %v", build.err)
	}
	return build.bin
}

// BuildPackage builds a main package of this module (relative path such as
// "./internal/loadtest/refserver") into dir and returns the binary's path.
func BuildPackage(t testing.TB, pkg, dir string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = moduleRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("procrig: go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Backends are the servers replicas share.
type Backends struct {
	// Redis is the store: Addr for a single server, or Sentinel addresses
	// with MasterName.
	Redis      string
	Sentinels  []string
	MasterName string
	Slapd      *testserver.SlapdServer
	Slack      *FakeSlack
	// Twilio is the fake Twilio REST API (codes by SMS).
	Twilio *twiliotest.Server
}

// Options tune one replica's configuration.
type Options struct {
	// ShutdownTimeout is server.shutdown_timeout (default 5s).
	ShutdownTimeout time.Duration
	// SlackWorkers and SlackQueue size the Slack turn pool (0: defaults).
	SlackWorkers, SlackQueue int
	// Pprof enables /debug/pprof on the admin listener.
	Pprof bool
	// LDAPTimeout is the directory request timeout (default 5s).
	LDAPTimeout time.Duration
	// CPUs pins the process with taskset (e.g. "0"); empty does not pin.
	CPUs string
	// Extra is appended to the configuration (top-level YAML keys).
	Extra string
}

// Serve is one running `resetbot serve` replica.
type Serve struct {
	// Public and Admin are the listeners' host:port.
	Public, Admin string
	// AuditFile is where the replica writes its audit records.
	AuditFile string

	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	logMu  sync.Mutex
	logs   bytes.Buffer
}

// StartServe writes a production configuration for b and o and starts a
// replica, waiting until /readyz answers 200 on its public listener.
func StartServe(t testing.TB, b Backends, o Options) *Serve {
	t.Helper()
	dir := t.TempDir()
	s := &Serve{Public: freeAddr(t), Admin: freeAddr(t), AuditFile: filepath.Join(dir, "audit.jsonl"),
		exited: make(chan struct{})}
	cfgPath := filepath.Join(dir, "resetbot.yaml")
	if err := os.WriteFile(cfgPath, []byte(s.config(b, o)), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{Binary(t), "serve", "-config", cfgPath}
	if o.CPUs != "" {
		args = append([]string{"taskset", "-c", o.CPUs}, args...)
	}
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = (*logWriter)(s), (*logWriter)(s)
	s.cmd.Env = append(cleanEnv(), "GOMAXPROCS="+gomaxprocs(o.CPUs))
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("procrig: start serve: %v", err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.Kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := Get("http://" + s.Public + "/readyz"); code == http.StatusOK {
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("procrig: serve exited at start: %v\n%s", s.err, s.Logs())
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("procrig: serve not ready in 30s\n%s", s.Logs())
		}
	}
}

// cleanEnv is the test's environment without RESETBOT_ variables: the
// configuration file alone decides (a RESETBOT_ variable of the caller's
// would be read as a setting).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RESETBOT_") {
			env = append(env, kv)
		}
	}
	return env
}

func gomaxprocs(cpus string) string {
	if cpus == "" {
		return strconv.Itoa(runtime.NumCPU())
	}
	return strconv.Itoa(len(strings.Split(cpus, ",")))
}

type logWriter Serve

func (w *logWriter) Write(p []byte) (int, error) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	if w.logs.Len() < 4<<20 {
		w.logs.Write(p)
	}
	return len(p), nil
}

// Logs returns what the replica printed (logs and, with audit to stdout,
// nothing else: audit goes to AuditFile).
func (s *Serve) Logs() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.logs.String()
}

// PID is the replica's process id (taskset execs, so it is serve's).
func (s *Serve) PID() int { return s.cmd.Process.Pid }

// Signal sends sig to the replica.
func (s *Serve) Signal(sig syscall.Signal) { _ = s.cmd.Process.Signal(sig) }

// Kill sends SIGKILL (a crash) and waits for the exit. Safe to repeat.
func (s *Serve) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Wait waits at most d for the replica to exit and reports whether it did.
func (s *Serve) Wait(d time.Duration) bool {
	select {
	case <-s.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// Exited is closed when the process has exited.
func (s *Serve) Exited() <-chan struct{} { return s.exited }

func (s *Serve) config(b Backends, o Options) string {
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 5 * time.Second
	}
	if o.LDAPTimeout == 0 {
		o.LDAPTimeout = 5 * time.Second
	}
	redis := fmt.Sprintf("{addrs: [%q], allow_plain: true}", b.Redis)
	if len(b.Sentinels) > 0 {
		redis = fmt.Sprintf("{addrs: [%s], master_name: %q, allow_plain: true}",
			`"`+strings.Join(b.Sentinels, `", "`)+`"`, b.MasterName)
	}
	var w strings.Builder
	fmt.Fprintf(&w, `mode: production
log: {level: warn}
server:
  listen: %q
  admin_listen: %q
  public_url: %q
  shutdown_timeout: %s
  pprof: %t
store:
  type: redis
  redis: %s
keys:
  encryption: "k1:WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="
  hmac: "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWl"
audit: {file: %q}
directories:
  - name: openldap
    type: ldap
    domains: [example.org]
    ldap:
      url: %s
      ca_file: %s
      bind_dn: %s
      bind_password: %s
      base_dn: %s
      dial_timeout: 2s
      request_timeout: %s
factors:
  enabled: [totp, sms]
  # One phone code resets (NIST 800-63B-4 "restricted"): the test users have
  # no authenticator, and a whole reset must fit a short test conversation.
  require: {reset: {default: 1, voice: 1}}
  policy: {phone_alone: true}
notify: {sms: {provider: twilio}}
# Escalations need a destination in production; nothing listens there, and
# no scenario here asks for a person.
handoff:
  ticket_webhook_url: https://127.0.0.1:9/tickets
  ticket_webhook_secret: procrig-ticket-secret-0123456789
channels:
  slack:
    enabled: true
    signing_secret: %q
    bot_token: %q
    api_url: %q
    team_ids: [%s]
    api_app_id: A0PROCRIG
    workers: %d
    queue: %d
  twilio:
    enabled: true
    account_sid: %q
    auth_token: %q
    from_number: "+15555550100"
    help_desk_number: "+15555550199"
    allowed_prefixes: ["+1"]
    api_base_url: %q
%s
`, s.Public, s.Admin, PublicURL, o.ShutdownTimeout, o.Pprof, redis, s.AuditFile,
		b.Slapd.LDAPSURL, b.Slapd.CAFile, testserver.SlapdBotDN, testserver.SlapdBotPW, testserver.SlapdPeopleDN,
		o.LDAPTimeout, SlackSigningSecret, SlackBotToken, b.Slack.APIURL(), SlackTeam, o.SlackWorkers, o.SlackQueue,
		TwilioAccountSID, TwilioAuthToken, b.Twilio.URL, o.Extra)
	return w.String()
}

func freeAddr(t testing.TB) string {
	return "127.0.0.1:" + strconv.Itoa(testserver.FreePort(t))
}

// Get fetches url with a short timeout and returns the status code and body.
func Get(url string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}
