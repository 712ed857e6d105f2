package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/internal/testserver"
)

// captureStdout runs fn with os.Stdout sent to a pipe and returns what it
// printed. Tests in this file do not run in parallel.
func captureStdout(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	defer func() {
		os.Stdout = old
	}()
	fn()
	os.Stdout = old
	w.Close()
	return <-done
}

const checkHead = `mode: demo
store: {type: memory}
notify: {outbox: true, sms: {provider: outbox}}
audit: {file: "-"}
directories:
`

func slapdBlock(url, ca string) string {
	return `  - name: openldap
    type: ldap
    domains: [example.org]
    ldap:
      url: ` + url + `
      ca_file: ` + ca + `
      bind_dn: ` + testserver.SlapdBotDN + `
      bind_password: ` + testserver.SlapdBotPW + `
      base_dn: ` + testserver.SlapdPeopleDN + `
      dial_timeout: 2s
      request_timeout: 3s
`
}

func sambaBlock(s *testserver.SambaServer, ca string) string {
	return `  - name: samba
    type: ad
    domains: [` + testserver.SambaDomain + `]
    ad:
      url: ` + s.URL + `
      ca_file: ` + ca + `
      bind_dn: "` + testserver.SambaBot.DN + `"
      bind_password: "` + testserver.SambaBot.Password + `"
      base_dn: ` + testserver.SambaPeopleOU + `
      domain: ` + testserver.SambaDomain + `
      dial_timeout: 2s
      request_timeout: 3s
`
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "resetbot.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func otherCA(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if _, err := testserver.SelfSignedCert(ca, filepath.Join(dir, "key.pem")); err != nil {
		t.Fatal(err)
	}
	return ca
}

// runCheck runs `resetbot check-config -config FILE` in-process.
func runCheck(t *testing.T, file string) (int, string) {
	t.Helper()
	var code int
	out := captureStdout(t, func() { code = runCheckConfig(context.Background(), []string{"-config", file}) })
	t.Logf("check-config exit %d:\n%s", code, out)
	return code, out
}

// TestCheckConfigSlapd: check-config against a real slapd passes, then
// prints a clear reason when the server is down or the CA is wrong, and
// never the bind password.
func TestCheckConfigSlapd(t *testing.T) {
	s := testserver.Slapd(t)
	good := writeConfig(t, checkHead+slapdBlock(s.LDAPSURL, s.CAFile))
	badCA := writeConfig(t, checkHead+slapdBlock(s.LDAPSURL, otherCA(t)))
	for _, tc := range []struct {
		name, file string
		stop       bool
		code       int
		want       string
	}{
		{"up", good, false, 0, "configuration is valid and every server answered"},
		{"wrong CA", badCA, false, 1, "the server's TLS certificate does not verify (check ca_file and server_name)"},
		{"down", good, true, 1, "the server is down or unreachable (connection refused)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.stop {
				s.Stop()
			}
			code, out := runCheck(t, tc.file)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output %q; want %d and %q", code, out, tc.code, tc.want)
			}
			if tc.code != 0 && !strings.Contains(out, "startup check failed: directory: directory \"openldap\"") {
				t.Errorf("the failure does not name the directory: %q", out)
			}
			if strings.Contains(out, testserver.SlapdBotPW) {
				t.Error("the bind password was printed")
			}
		})
	}
}

// TestCheckConfigSamba does the same against a Samba AD DC.
func TestCheckConfigSamba(t *testing.T) {
	s := testserver.SambaDC(t)
	for _, tc := range []struct {
		name, ca string
		code     int
		want     string
	}{
		{"up", s.CAFile, 0, "configuration is valid and every server answered"},
		{"wrong CA", otherCA(t), 1, "the server's TLS certificate does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runCheck(t, writeConfig(t, checkHead+sambaBlock(s, tc.ca)))
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output %q; want %d and %q", code, out, tc.code, tc.want)
			}
			if strings.Contains(out, testserver.SambaBot.Password) {
				t.Error("the bind password was printed")
			}
		})
	}
}

// TestCheckConfigInvalidFile lists every problem and contacts nothing.
func TestCheckConfigInvalidFile(t *testing.T) {
	file := writeConfig(t, `mode: production
directories:
  - name: demo
    type: memory
`)
	code, out := runCheck(t, file)
	if code != 1 || !strings.Contains(out, "directories[0].type") || !strings.Contains(out, "configuration is not valid") {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

// TestCheckConfigStoreDown: a store that cannot be reached at startup must
// be reported like a directory that is down.
func TestCheckConfigStoreDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s := testserver.Slapd(t)
	file := writeConfig(t, strings.Replace(checkHead, "store: {type: memory}",
		"store: {type: redis, redis: {addrs: [\""+addr+"\"], tls: false, allow_plain: true}}", 1)+
		slapdBlock(s.LDAPSURL, s.CAFile))
	var code int
	var out string
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		code, out = runCheck(t, file)
	}()
	if panicked != nil {
		t.Fatalf("check-config panicked instead of reporting the store: %v", panicked)
	}
	if code != 1 || !strings.Contains(out, "startup failed: store redis") {
		t.Fatalf("exit %d, output %q", code, out)
	}
}
