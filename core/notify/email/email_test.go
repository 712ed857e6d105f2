package email_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/email"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
)

const (
	code     = "739164"
	password = "smtp-Pa55-word!"
)

func fixedNow() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) }

func config(s *server, mode email.TLSMode) email.Config {
	port, _ := strconv.Atoi(s.Port)
	c := email.Config{Host: s.Host, Port: port, From: "resetbot <noreply@corp.example>", TLS: mode, Timeout: 5 * time.Second}
	if s.CertPool != nil {
		c.TLSConfig = &tls.Config{RootCAs: s.CertPool}
	}
	return c
}

func newSender(t *testing.T, c email.Config) *email.Sender {
	t.Helper()
	snd, err := email.New(c, email.WithClock(fixedNow))
	if err != nil {
		t.Fatal(err)
	}
	return snd
}

func codeMsg(to string) notify.Message {
	return notify.Message{Kind: notify.KindCode, To: to, Subject: "Your resetbot code",
		Body: secret.New("Your code is " + code + ".\nIt expires in 10 minutes."), Summary: "reset.code_sent"}
}

func TestSendPlainForTests(t *testing.T) {
	srv := startServer(t, serverOpts{})
	snd := newSender(t, config(srv, email.TLSNone))
	if err := snd.Send(context.Background(), codeMsg("alice@corp.example")); err != nil {
		t.Fatal(err)
	}
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
	m := msgs[0]
	if m.From != "noreply@corp.example" || len(m.Rcpts) != 1 || m.Rcpts[0] != "alice@corp.example" {
		t.Errorf("envelope from=%q rcpts=%q", m.From, m.Rcpts)
	}
	for _, want := range []string{"Subject: Your resetbot code", "Auto-Submitted: auto-generated",
		"Date: Fri, 27 Nov 2026 10:00:00 +0000", code, "text/plain"} {
		if !strings.Contains(m.Data, want) {
			t.Errorf("message lacks %q:\n%s", want, m.Data)
		}
	}
}

func TestSendSTARTTLSWithAuth(t *testing.T) {
	srv := startServer(t, serverOpts{starttls: true, user: "bot", pass: password})
	c := config(srv, email.TLSMandatory)
	c.Username, c.Password = "bot", secret.New(password)
	snd := newSender(t, c)
	if err := snd.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := snd.Send(context.Background(), codeMsg("alice@corp.example")); err != nil {
		t.Fatal(err)
	}
	msgs := srv.messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "bot" {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	srv := startServer(t, serverOpts{implicit: true, user: "bot", pass: password})
	c := config(srv, email.TLSImplicit)
	c.Username, c.Password = "bot", secret.New(password)
	if err := newSender(t, c).Send(context.Background(), codeMsg("alice@corp.example")); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.messages(); len(msgs) != 1 || !msgs[0].TLS {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestFailsClosed(t *testing.T) {
	t.Run("mandatory TLS but no STARTTLS", func(t *testing.T) {
		srv := startServer(t, serverOpts{})
		err := newSender(t, config(srv, email.TLSMandatory)).Send(context.Background(), codeMsg("alice@corp.example"))
		if err == nil || len(srv.messages()) != 0 {
			t.Fatalf("err = %v, messages = %d: must refuse to send in clear", err, len(srv.messages()))
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := startServer(t, serverOpts{starttls: true})
		c := config(srv, email.TLSMandatory)
		c.TLSConfig = nil // system roots do not trust the test certificate
		err := newSender(t, c).Send(context.Background(), codeMsg("alice@corp.example"))
		if err == nil || len(srv.messages()) != 0 {
			t.Fatalf("err = %v: must refuse an untrusted certificate", err)
		}
	})
	t.Run("wrong password never in error", func(t *testing.T) {
		srv := startServer(t, serverOpts{starttls: true, user: "bot", pass: "other"})
		c := config(srv, email.TLSMandatory)
		c.Username, c.Password = "bot", secret.New(password)
		snd := newSender(t, c)
		for _, err := range []error{snd.Send(context.Background(), codeMsg("alice@corp.example")), snd.Check(context.Background())} {
			if err == nil {
				t.Fatal("expected an auth error")
			}
			if msg := fmt.Sprintf("%v %+v", err, err); strings.Contains(msg, password) || strings.Contains(msg, code) {
				t.Errorf("error leaks a secret: %s", msg)
			}
		}
		if len(srv.messages()) != 0 {
			t.Error("message delivered despite failed auth")
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		srv := startServer(t, serverOpts{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := newSender(t, config(srv, email.TLSNone)).Send(ctx, codeMsg("alice@corp.example")); err == nil {
			t.Fatal("expected an error")
		}
	})
}

func TestHeaderInjectionRefused(t *testing.T) {
	cases := []struct {
		name    string
		to, sub string
	}{
		{"CRLF Bcc in subject", "alice@corp.example", "Hello\r\nBcc: evil@attacker.example"},
		{"LF Bcc in subject", "alice@corp.example", "Hello\nBcc: evil@attacker.example"},
		{"unicode line separator in subject", "alice@corp.example", "Hello\u2028Bcc: evil@attacker.example"},
		{"CRLF Bcc in to", "alice@corp.example\r\nBcc: evil@attacker.example", "Hi"},
		{"display name with CRLF Bcc", "\"Alice\r\nBcc: evil@attacker.example\" <alice@corp.example>", "Hi"},
		{"display name", "Alice <alice@corp.example>", "Hi"},
		{"two recipients", "alice@corp.example, evil@attacker.example", "Hi"},
		{"empty to", "", "Hi"},
		{"not an address", "alice", "Hi"},
	}
	srv := startServer(t, serverOpts{})
	snd := newSender(t, config(srv, email.TLSNone))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := codeMsg(tc.to)
			m.Subject = tc.sub
			err := snd.Send(context.Background(), m)
			if !errors.Is(err, notify.ErrInvalidMessage) {
				t.Fatalf("err = %v, want ErrInvalidMessage", err)
			}
			if strings.Contains(err.Error(), "evil@") || strings.Contains(err.Error(), code) {
				t.Errorf("error echoes input: %v", err)
			}
		})
	}
	if n := len(srv.messages()); n != 0 {
		t.Errorf("%d messages reached the server", n)
	}
}

func TestBodyCannotSmuggleCommands(t *testing.T) {
	srv := startServer(t, serverOpts{})
	snd := newSender(t, config(srv, email.TLSNone))
	m := codeMsg("alice@corp.example")
	m.Body = secret.New("code " + code + "\r\n.\r\nMAIL FROM:<x@y>\r\nRCPT TO:<evil@attacker.example>\r\nDATA\r\nBcc: evil@attacker.example\r\n.\r\n")
	if err := snd.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msgs := srv.messages()
	if len(msgs) != 1 || len(msgs[0].Rcpts) != 1 || msgs[0].Rcpts[0] != "alice@corp.example" {
		t.Fatalf("want exactly one message to alice only, got %+v", msgs)
	}
	head, _, _ := strings.Cut(msgs[0].Data, "\r\n\r\n")
	if strings.Contains(strings.ToLower(head), "bcc:") {
		t.Errorf("Bcc header present:\n%s", head)
	}
}

// TestValidate: each problem is reported at its setting's path, never with
// the password in it, and New refuses what Validate refuses.
func TestValidate(t *testing.T) {
	ok := *email.DefaultConfig()
	ok.Host, ok.From = "smtp.corp.example", "noreply@corp.example"
	cases := []struct {
		name       string
		mutate     func(*email.Config)
		production bool
		want       string // error path; "": valid
	}{
		{"ok", func(*email.Config) {}, true, ""},
		{"no host", func(c *email.Config) { c.Host = "" }, false, "notify.email.host"},
		{"socket host", func(c *email.Config) { c.Host = "unix:///run/smtp" }, false, "notify.email.host"},
		{"no from", func(c *email.Config) { c.From = "" }, false, "notify.email.from"},
		{"bad from", func(c *email.Config) { c.From = "nobody" }, false, "notify.email.from"},
		{"from CRLF", func(c *email.Config) { c.From = "bot\r\nBcc: x@y <noreply@corp.example>" }, false, "notify.email.from"},
		{"bad tls", func(c *email.Config) { c.TLS = "opportunistic" }, false, "notify.email.tls"},
		{"password in clear", func(c *email.Config) {
			c.TLS, c.Username, c.Password = email.TLSNone, "u", secret.New(password)
		}, false, "notify.email.tls"},
		{"clear text in production", func(c *email.Config) { c.TLS = email.TLSNone }, true, "notify.email.tls"},
		{"clear text in demo", func(c *email.Config) { c.TLS = email.TLSNone }, false, ""},
		{"password without user", func(c *email.Config) { c.Password = secret.New(password) }, false, "notify.email.username"},
		{"user without password", func(c *email.Config) { c.Username = "u" }, false, "notify.email.password"},
		{"bad port", func(c *email.Config) { c.Port = 70000 }, false, "notify.email.port"},
		{"no port", func(c *email.Config) { c.Port = 0 }, false, "notify.email.port"},
		{"negative timeout", func(c *email.Config) { c.Timeout = -time.Second }, false, "notify.email.timeout"},
		{"missing ca_file", func(c *email.Config) { c.CAFile = "/nonexistent/ca.pem" }, false, "notify.email.ca_file"},
		{"ca_file without tls", func(c *email.Config) { c.CAFile, c.TLS = "/etc/hosts", email.TLSNone }, false, "notify.email.ca_file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mutate(&c)
			probs := plugin.Check(&c, "notify.email", tc.production)
			var paths []string
			for _, p := range probs {
				if strings.Contains(p.Message, password) {
					t.Errorf("problem leaks the password: %s", p)
				}
				if !p.Warning {
					paths = append(paths, p.Path)
				}
			}
			if tc.want == "" {
				if len(paths) != 0 {
					t.Fatalf("unexpected problems %v", probs)
				}
				return
			}
			if !slices.Equal(paths, []string{tc.want}) {
				t.Fatalf("errors at %q, want %q: %v", paths, tc.want, probs)
			}
			if !tc.production && c.Port != 0 { // New gives code a default port
				if _, nerr := email.New(c); nerr == nil {
					t.Error("New accepted an invalid config")
				}
			}
		})
	}
}

func TestQueueOverEmail(t *testing.T) {
	srv := startServer(t, serverOpts{})
	q := notify.NewQueue(newSender(t, config(srv, email.TLSNone)), 8, 2)
	for i := 0; i < 5; i++ {
		if err := q.Send(context.Background(), codeMsg(fmt.Sprintf("user%d@corp.example", i))); err != nil {
			t.Fatal(err)
		}
	}
	_ = q.Close()
	if s := q.Stats(); s.Sent != 5 || len(srv.messages()) != 5 {
		t.Errorf("stats %+v, messages %d", s, len(srv.messages()))
	}
}
