package teams

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/secret"
)

func newTestConnector(t *testing.T, f *fakeBF, clk *fakeClock, password string) *Connector {
	t.Helper()
	c, err := NewConnector(ConnectorOptions{TokenURL: f.srv.URL + "/" + testTenant + "/oauth2/v2.0/token",
		ClientID: testAppID, ClientSecret: secret.New(password), Scope: "https://api.botframework.com/.default",
		AllowedHosts: []string{"127.0.0.1"}, HTTP: &http.Client{Timeout: 5 * time.Second}, Clock: clk.now,
		Sleep: func(context.Context, time.Duration) {}, allowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func hello() *Outgoing { return &Outgoing{Type: "message", Text: "hi"} }

// TestConnectorTokenCache: concurrent replies share one token; it is renewed
// before it expires.
func TestConnectorTokenCache(t *testing.T) {
	f := newFakeBF(t)
	clk := &fakeClock{t: time.Now()}
	c := newTestConnector(t, f, clk, testPassword)
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if _, err := c.Send(context.Background(), f.srv.URL, "a:conv", hello()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("%d token fetches for 12 concurrent replies, want 1", n)
	}
	clk.add(50 * time.Minute) // the token lives 60 min; renewed 5 min early
	if _, err := c.Send(context.Background(), f.srv.URL, "a:conv", hello()); err != nil || f.tokenCalls.Load() != 1 {
		t.Fatalf("token renewed too early: %v %d", err, f.tokenCalls.Load())
	}
	clk.add(6 * time.Minute)
	if _, err := c.Send(context.Background(), f.srv.URL, "a:conv", hello()); err != nil || f.tokenCalls.Load() != 2 {
		t.Fatalf("token not renewed before expiry: %v %d", err, f.tokenCalls.Load())
	}
}

// TestConnectorFailures: each failure is a clear, secret-free error, with
// bounded retries and no panic.
func TestConnectorFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("token endpoint unreachable", func(t *testing.T) {
		f := newFakeBF(t)
		c := newTestConnector(t, f, &fakeClock{t: time.Now()}, testPassword)
		c.opt.TokenURL = closedURL(t) + "/t/oauth2/v2.0/token"
		_, err := c.Send(ctx, f.srv.URL, "a:conv", hello())
		if !errors.Is(err, ErrTokenEndpoint) || f.connectorN.Load() != 0 {
			t.Fatalf("got %v with %d connector calls", err, f.connectorN.Load())
		}
	})
	t.Run("token endpoint drops the connection", func(t *testing.T) {
		f := newFakeBF(t)
		f.tokenDown.Store(true)
		c := newTestConnector(t, f, &fakeClock{t: time.Now()}, testPassword)
		_, err := c.Send(ctx, f.srv.URL, "a:conv", hello())
		if !errors.Is(err, ErrTokenEndpoint) || f.tokenCalls.Load() != 3 {
			t.Fatalf("got %v after %d attempts", err, f.tokenCalls.Load())
		}
	})
	t.Run("wrong client secret", func(t *testing.T) {
		f := newFakeBF(t)
		c := newTestConnector(t, f, &fakeClock{t: time.Now()}, "wrong-Secret-123")
		_, err := c.Send(ctx, f.srv.URL, "a:conv", hello())
		if !errors.Is(err, ErrTokenEndpoint) || f.tokenCalls.Load() != 1 || !strings.Contains(err.Error(), "invalid_client") {
			t.Fatalf("got %v after %d attempts (4xx is not retried)", err, f.tokenCalls.Load())
		}
		if strings.Contains(err.Error(), "wrong-Secret-123") || strings.Contains(err.Error(), "AADSTS") {
			t.Fatalf("error quotes the response or the secret: %v", err)
		}
	})
	t.Run("serviceUrl not allowed", func(t *testing.T) {
		f := newFakeBF(t)
		c := newTestConnector(t, f, &fakeClock{t: time.Now()}, testPassword)
		for _, u := range []string{"https://evil.example", "http://127.0.0.1.evil.example", "https://user@127.0.0.1", "ftp://127.0.0.1", "::"} {
			if _, err := c.Send(ctx, u, "a:conv", hello()); !errors.Is(err, ErrServiceHost) {
				t.Errorf("%s: %v", u, err)
			}
		}
		if f.tokenCalls.Load()+f.connectorN.Load() != 0 {
			t.Error("a refused serviceUrl caused requests")
		}
	})
	t.Run("connector 401 renews the token once", func(t *testing.T) {
		f := newFakeBF(t)
		c := newTestConnector(t, f, &fakeClock{t: time.Now()}, testPassword)
		if _, err := c.Send(ctx, f.srv.URL, "a:conv", hello()); err != nil {
			t.Fatal(err)
		}
		f.lastSecret.Store("rotated-by-the-server")
		_, err := c.Send(ctx, f.srv.URL, "a:conv", hello())
		if err != nil || f.tokenCalls.Load() != 2 {
			t.Fatalf("got %v with %d token fetches", err, f.tokenCalls.Load())
		}
	})
	t.Run("connector 5xx retried then reported", func(t *testing.T) {
		f := newFakeBF(t)
		f.connectorStatus.Store(http.StatusServiceUnavailable)
		c := newTestConnector(t, f, &fakeClock{t: time.Now()}, testPassword)
		_, err := c.Send(ctx, f.srv.URL, "a:conv", hello())
		if !errors.Is(err, ErrConnector) || f.connectorN.Load() != 3 || strings.Contains(err.Error(), "a:conv") {
			t.Fatalf("got %v after %d calls", err, f.connectorN.Load())
		}
	})
	t.Run("connector 404 not retried", func(t *testing.T) {
		f := newFakeBF(t)
		f.connectorStatus.Store(http.StatusNotFound)
		c := newTestConnector(t, f, &fakeClock{t: time.Now()}, testPassword)
		if _, err := c.Send(ctx, f.srv.URL, "a:conv", hello()); !errors.Is(err, ErrConnector) || f.connectorN.Load() != 1 {
			t.Fatalf("got %v after %d calls", err, f.connectorN.Load())
		}
	})
}
