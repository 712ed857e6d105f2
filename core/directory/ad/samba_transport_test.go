package ad_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/ad"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/testserver"
)

func TestSambaTransport(t *testing.T) {
	s := testserver.SambaDC(t)
	otherCA, err := testserver.SambaOtherCA()
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(other, otherCA, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*ad.Config)
		want   string // "" = works, else a phrase of the ErrUnavailable reason
	}{
		{"ldaps", func(*ad.Config) {}, ""},
		{"starttls", func(c *ad.Config) { c.URL, c.StartTLS = s.StartTLSURL, true }, ""},
		{"server name from config", func(c *ad.Config) { c.URL = "ldaps://" + s.IP; c.ServerName = testserver.SambaServerName }, ""},
		{"wrong CA", func(c *ad.Config) { c.CAFile = other }, "does not verify"},
		{"wrong CA starttls", func(c *ad.Config) { c.CAFile = other; c.URL, c.StartTLS = s.StartTLSURL, true }, "does not verify"},
		{"system roots", func(c *ad.Config) { c.CAFile = "" }, "does not verify"},
		{"name mismatch", func(c *ad.Config) { c.ServerName = "other.example.org" }, "name mismatch"},
		{"server down", func(c *ad.Config) { c.URL = "ldaps://127.0.0.1:1" }, "connection refused"},
		{"wrong bind password", func(c *ad.Config) { c.BindPassword = secret.New("wrong") }, "invalid credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(s)
			tt.mutate(&cfg)
			d := open(t, cfg)
			err := d.Check(ctxT(t))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, directory.ErrUnavailable) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want ErrUnavailable with %q", err, tt.want)
			}
			_, err = d.Find(ctxT(t), directory.ByLogin, "jdoe")
			if !errors.Is(err, directory.ErrUnavailable) {
				t.Errorf("Find = %v, want ErrUnavailable", err)
			}
		})
	}
	t.Run("starttls reset", func(t *testing.T) {
		cfg := config(s)
		cfg.URL, cfg.StartTLS = s.StartTLSURL, true
		d := open(t, cfg)
		j := testserver.SambaJDoe
		if err := d.ResetPassword(ctxT(t), directory.User{ID: j.DN}, secret.New("StartTLS-Pass-1"), directory.ResetOptions{}); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		if !canBind(t, s, j, "StartTLS-Pass-1") {
			t.Error("new password does not bind")
		}
	})
}

// TestSambaPlainRefused checks that a write never goes over plain LDAP, even
// when the server would accept it.
func TestSambaPlainRefused(t *testing.T) {
	s := testserver.SambaDCWith(t, testserver.SambaOptions{PlainBind: true})
	cfg := config(s)
	cfg.URL = s.StartTLSURL
	if _, err := ad.Open(context.Background(), cfg); err == nil {
		t.Fatal("Open accepted plain ldap:// without StartTLS")
	}
	d, err := ad.OpenPlain(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	j := testserver.SambaJDoe
	u := find(t, d, directory.ByLogin, j.Login) // reads work over plain LDAP here
	err = d.ResetPassword(ctxT(t), u, secret.New("Plain-Pass-123"), directory.ResetOptions{})
	if !errors.Is(err, ad.ErrPlaintext) || !errors.Is(err, directory.ErrUnavailable) {
		t.Fatalf("ResetPassword over plain LDAP = %v, want ErrPlaintext", err)
	}
	if err := d.Unlock(ctxT(t), u); !errors.Is(err, ad.ErrPlaintext) {
		t.Fatalf("Unlock over plain LDAP = %v, want ErrPlaintext", err)
	}
	if !canBind(t, s, j, j.Password) {
		t.Error("the password changed")
	}
}

// TestSambaAmbiguous checks that a modify sent to a server that then hangs
// is reported as ErrAmbiguous, not as a failure.
func TestSambaAmbiguous(t *testing.T) {
	s := testserver.SambaDC(t)
	cfg := config(s)
	cfg.RequestTimeout = 300 * time.Millisecond
	d := open(t, cfg)
	if err := d.Check(ctxT(t)); err != nil { // leave a bound connection in the pool
		t.Fatal(err)
	}
	// The server hangs after the checks (protection, holds) have read the
	// account: the write itself must hang.
	var resume func()
	ad.BeforeWrite(d, func() { resume = s.Pause(t) })
	defer func() { resume() }()
	u := directory.User{ID: testserver.SambaJDoe.DN}
	err := d.ResetPassword(ctxT(t), u, secret.New("Hung-Pass-123"), directory.ResetOptions{})
	if !errors.Is(err, directory.ErrAmbiguous) {
		t.Fatalf("ResetPassword to a hung server (request timeout) = %v, want ErrAmbiguous", err)
	}
	cfg.RequestTimeout = time.Minute
	d2 := open(t, cfg)
	resume()
	if err := d2.Check(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	ad.BeforeWrite(d2, func() { s.Pause(t) })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	err = d2.Unlock(ctx, u)
	if !errors.Is(err, directory.ErrAmbiguous) {
		t.Fatalf("Unlock cancelled while the server hangs = %v, want ErrAmbiguous", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := d.Find(ctx, directory.ByLogin, "jdoe"); err == nil || errors.Is(err, directory.ErrAmbiguous) {
		t.Fatalf("Find on a hung server = %v, want a plain failure", err)
	}
}
