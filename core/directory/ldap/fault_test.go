package ldap_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/ldap"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestValidate: Open runs the one validator (Config.Validate, the rules
// check-config applies, production's by default) and refuses what it
// reports, every problem at once.
func TestValidate(t *testing.T) {
	good := ldap.Config{Settings: ldap.Settings{URL: "ldaps://ldap.example.org", BindDN: "cn=bot,dc=example,dc=org",
		BindPassword: secret.New("pw"), BaseDN: "dc=example,dc=org"}}
	for _, tc := range []struct {
		name   string
		change func(*ldap.Config)
		want   string // substring of the error; "" = valid
	}{
		{"ldaps", func(*ldap.Config) {}, ""},
		{"starttls", func(c *ldap.Config) { c.URL, c.StartTLS = "ldap://ldap.example.org", true }, ""},
		{"plain refused", func(c *ldap.Config) { c.URL = "ldap://ldap.example.org" }, "clear"},
		{"plain allowed", func(c *ldap.Config) { c.URL, c.AllowPlain = "ldap://ldap.example.org", true }, ""},
		{"ldaps with starttls", func(c *ldap.Config) { c.StartTLS = true }, "ldap.start_tls"},
		{"bad scheme", func(c *ldap.Config) { c.URL = "http://x" }, "scheme"},
		{"no url", func(c *ldap.Config) { c.URL = "" }, "ldap.url: is required"},
		{"no bind", func(c *ldap.Config) { c.BindPassword = secret.String{} }, "ldap.bind_password"},
		{"bad base", func(c *ldap.Config) { c.BaseDN = "not a dn" }, "ldap.base_dn"},
		{"bad filter", func(c *ldap.Config) { c.UserFilter = "(uid=" }, "ldap.user_filter"},
		{"bad protected filter", func(c *ldap.Config) { c.ProtectedFilter = "uid=x" }, "ldap.protected_filter"},
		{"bad protected group", func(c *ldap.Config) { c.ProtectedGroups = []string{"nope"} }, "is not a DN"},
		{"cut protected group", func(c *ldap.Config) { c.ProtectedGroups = []string{"cn=admins", "dc=org"} }, "not a whole group DN"},
		{"missing ca", func(c *ldap.Config) { c.CAFile = "/nonexistent/ca.pem" }, "ldap.ca_file"},
		{"half disabled marker", func(c *ldap.Config) { c.DisabledAttribute = "employeeType" }, "ldap.disabled_value"},
		{"attribute injection", func(c *ldap.Config) { c.Attributes.Email = "mail)(cn=*" }, "ldap.attributes.email"},
		{"pool", func(c *ldap.Config) { c.PoolSize = 101 }, "ldap.pool_size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			_, err := ldap.Open(context.Background(), cfg)
			if tc.want == "" && err != nil {
				t.Fatalf("Open = %v, want ok", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Open = %v, want error with %q", err, tc.want)
			}
		})
	}
	// Every problem is reported at once, and the password never shows.
	_, err := ldap.Open(context.Background(), ldap.Config{Settings: ldap.Settings{URL: "ldap://x",
		BindPassword: secret.New("Sup3r-Secret")}})
	if err == nil || !strings.Contains(err.Error(), "clear") || !strings.Contains(err.Error(), "bind_dn") ||
		strings.Contains(err.Error(), "Sup3r-Secret") {
		t.Fatalf("Open = %v, want all problems without the password", err)
	}
}

func TestCheck(t *testing.T) {
	s := testserver.Slapd(t)
	wrongCA := filepath.Join(t.TempDir(), "other.pem")
	if _, err := testserver.SelfSignedCert(wrongCA, filepath.Join(t.TempDir(), "k.pem")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(*ldap.Config)
		want   string // substring of the error; "" = healthy
	}{
		{"starttls", func(*ldap.Config) {}, ""},
		{"ldaps", func(c *ldap.Config) { c.URL, c.StartTLS = s.LDAPSURL, false }, ""},
		{"wrong CA starttls", func(c *ldap.Config) { c.CAFile = wrongCA }, "certificate"},
		{"wrong CA ldaps", func(c *ldap.Config) { c.URL, c.StartTLS, c.CAFile = s.LDAPSURL, false, wrongCA }, "certificate"},
		{"wrong server name", func(c *ldap.Config) { c.ServerName = "ldap.example.org" }, "certificate"},
		{"insecure skip verify", func(c *ldap.Config) { c.CAFile, c.InsecureSkipVerify = wrongCA, true }, ""},
		{"bind failure", func(c *ldap.Config) { c.BindPassword = secret.New("Wrong-Bot-Pw-123") }, "invalid credentials"},
		{"missing protected group", func(c *ldap.Config) { c.ProtectedGroups = []string{"cn=nope," + testserver.SlapdBaseDN} }, "cn=nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(s)
			tc.change(&cfg)
			err := open(t, cfg).Check(context.Background())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check = %v", err)
				}
				return
			}
			if !errors.Is(err, directory.ErrUnavailable) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check = %v, want ErrUnavailable mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "Wrong-Bot-Pw-123") {
				t.Fatal("the bind password leaked into the error")
			}
		})
	}
}

func TestServerDownAndBack(t *testing.T) {
	s := testserver.Slapd(t)
	cfg := config(s)
	cfg.PoolSize = 2
	d := open(t, cfg)
	ctx := context.Background()
	alice := find(t, d, "alice")
	s.Stop()
	if _, err := d.Find(ctx, directory.ByLogin, "alice"); !errors.Is(err, directory.ErrUnavailable) ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Find with the server down = %v, want ErrUnavailable (connection refused)", err)
	}
	// Nothing was sent, so this is a plain failure, not an ambiguous one.
	err := d.ResetPassword(ctx, alice, secret.New("Down-Passw0rd-1"), directory.ResetOptions{})
	if !errors.Is(err, directory.ErrUnavailable) || errors.Is(err, directory.ErrAmbiguous) {
		t.Fatalf("reset with the server down = %v, want ErrUnavailable", err)
	}
	if err := d.Check(ctx); !errors.Is(err, directory.ErrUnavailable) {
		t.Fatalf("Check = %v", err)
	}
	s.Restart(t)
	find(t, d, "alice")
	if err := d.Check(ctx); err != nil {
		t.Fatalf("Check after restart: %v", err)
	}
}

// TestKilledMidReset kills the server after it received the reset but
// before the answer reached the bot: the outcome is unknown.
func TestKilledMidReset(t *testing.T) {
	s := testserver.Slapd(t)
	p := newProxy(t, strings.TrimPrefix(s.URL, "ldap://"))
	cfg := config(s)
	// Plain LDAP through the proxy so it can see the request; tests only.
	cfg.URL, cfg.StartTLS, cfg.AllowPlain = "ldap://"+p.addr, false, true
	cfg.PoolSize = 1
	d := open(t, cfg)
	ctx := context.Background()
	alice := find(t, d, "alice")

	p.holdAfter([]byte("1.3.6.1.4.1.4203.1.11.1"))
	go func() {
		<-p.held
		s.Stop()
	}()
	newPw := secret.New("Killed-Passw0rd-1")
	err := d.ResetPassword(ctx, alice, newPw, directory.ResetOptions{})
	if !errors.Is(err, directory.ErrAmbiguous) {
		t.Fatalf("reset killed mid-way = %v, want ErrAmbiguous", err)
	}
	if strings.Contains(err.Error(), newPw.Reveal()) {
		t.Fatal("password leaked into the error")
	}
	s.Restart(t)
	find(t, d, "alice") // the bot reconnects by itself
}

// TestTimeoutAfterWrite: the server holds the answer to a reset; the request
// timeout fires and the outcome is unknown.
func TestTimeoutAfterWrite(t *testing.T) {
	s := testserver.Slapd(t)
	p := newProxy(t, strings.TrimPrefix(s.URL, "ldap://"))
	cfg := config(s)
	cfg.URL, cfg.StartTLS, cfg.AllowPlain = "ldap://"+p.addr, false, true
	cfg.RequestTimeout = 300 * time.Millisecond
	d := open(t, cfg)
	alice := find(t, d, "alice")
	p.holdAfter([]byte("1.3.6.1.4.1.4203.1.11.1"))
	err := d.ResetPassword(context.Background(), alice, secret.New("Timeout-Passw0rd-1"), directory.ResetOptions{})
	if !errors.Is(err, directory.ErrAmbiguous) {
		t.Fatalf("reset timed out = %v, want ErrAmbiguous", err)
	}
	// A cancelled context during the held request is ambiguous too.
	p.holdAfter([]byte("1.3.6.1.4.1.4203.1.11.1"))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-p.held; cancel() }()
	cfg.RequestTimeout = 10 * time.Second
	d2 := open(t, cfg)
	err = d2.ResetPassword(ctx, alice, secret.New("Timeout-Passw0rd-2"), directory.ResetOptions{})
	if !errors.Is(err, directory.ErrAmbiguous) || !errors.Is(err, context.Canceled) {
		t.Fatalf("reset cancelled mid-way = %v, want ErrAmbiguous and context.Canceled", err)
	}
}

// proxy forwards TCP to a server. Armed with holdAfter, it stops passing
// the server's answers on the first connection whose client stream contains
// a marker, and signals held.
type proxy struct {
	addr   string
	target string
	mu     sync.Mutex
	marker []byte
	held   chan struct{}
}

func newProxy(t testing.TB, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p := &proxy{addr: l.Addr().String(), target: target}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *proxy) holdAfter(marker []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marker, p.held = marker, make(chan struct{})
}

func (p *proxy) serve(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	var hold sync.Once
	holding := make(chan struct{})
	go func() { // client -> server, watching for the marker
		buf := make([]byte, 4096)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				p.mu.Lock()
				if p.marker != nil && bytes.Contains(buf[:n], p.marker) {
					p.marker = nil
					hold.Do(func() { close(holding) })
					close(p.held)
				}
				p.mu.Unlock()
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 4096) // server -> client, until held
	for {
		n, err := server.Read(buf)
		select {
		case <-holding:
			n = 0 // swallow the answer
		default:
		}
		if n > 0 {
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func BenchmarkResetRoundTrip(b *testing.B) {
	s := testserver.Slapd(b)
	d := open(b, config(s))
	alice := find(b, d, "alice")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pw := secret.New(fmt.Sprintf("Bench-Passw0rd-%d", i))
		if err := d.ResetPassword(ctx, alice, pw, directory.ResetOptions{MustChange: true}); err != nil {
			b.Fatal(err)
		}
	}
}
