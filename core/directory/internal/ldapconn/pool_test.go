package ldapconn

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// pipeDialer opens connections over in-memory pipes (no server: the tests
// below never send a request) and counts them.
type pipeDialer struct{ n int }

func (d *pipeDialer) dial(context.Context) (*ldap.Conn, error) {
	d.n++
	client, server := net.Pipe()
	go func() { _, _ = io.Copy(io.Discard, server) }()
	c := ldap.NewConn(client, false)
	c.Start()
	return c, nil
}

func TestPoolBoundAndReuse(t *testing.T) {
	d := &pipeDialer{}
	p := NewPool(1, time.Minute, d.dial)
	defer p.Close()
	c, fresh, err := p.Get(context.Background())
	if err != nil || !fresh {
		t.Fatalf("Get = %v, fresh %v", err, fresh)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := p.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get on a full pool = %v, want the context's error", err)
	}
	p.Put(c, true)
	c2, fresh, err := p.Get(context.Background())
	if err != nil || fresh || c2 != c || d.n != 1 {
		t.Fatalf("Get after Put = %p fresh %v err %v dials %d, want the idle connection", c2, fresh, err, d.n)
	}
	p.Put(c2, false)
	if !c2.IsClosing() {
		t.Fatal("a connection put back as unhealthy stays open")
	}
	p.Close()
	if _, _, err := p.Get(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}
}

// TestDoRetry checks the retry rule: a transport failure on a pooled
// connection is retried once on a fresh one, unless the request was sent.
func TestDoRetry(t *testing.T) {
	netErr := ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection closed"))
	for _, tc := range []struct {
		name      string
		send      bool
		wantCalls int
	}{{"read", false, 2}, {"write sent", true, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			d := &pipeDialer{}
			p := NewPool(2, time.Minute, d.dial)
			defer p.Close()
			c, _, _ := p.Get(context.Background())
			p.Put(c, true) // a pooled connection, as after an earlier request
			calls := 0
			out, err := p.Do(context.Background(), func(_ *ldap.Conn, sent *bool) error {
				calls++
				*sent = tc.send
				return netErr
			})
			if calls != tc.wantCalls || !errors.Is(err, netErr) || out.Sent != tc.send || out.Cancelled {
				t.Fatalf("Do: %d calls, %+v, %v; want %d calls", calls, out, err, tc.wantCalls)
			}
		})
	}
}

func TestIsNetwork(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{io.EOF, true},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, true},
		{ldap.NewError(ldap.ErrorNetwork, errors.New("x")), true},
		{ldap.NewError(ldap.LDAPResultInvalidCredentials, errors.New("x")), false},
		{errors.New("unable to read LDAP response packet: x"), true},
		{errors.New("refused by policy"), false},
	} {
		if got := IsNetwork(tc.err); got != tc.want {
			t.Errorf("IsNetwork(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestHostPort(t *testing.T) {
	for _, tc := range []struct {
		url, addr string
		tls       bool
	}{
		{"ldaps://dc.example.org", "dc.example.org:636", true},
		{"LDAP://dc.example.org", "dc.example.org:389", false},
		{"ldap://127.0.0.1:3389", "127.0.0.1:3389", false},
	} {
		addr, tls, err := HostPort(tc.url)
		if err != nil || addr != tc.addr || tls != tc.tls {
			t.Errorf("HostPort(%q) = %q %v %v, want %q %v", tc.url, addr, tls, err, tc.addr, tc.tls)
		}
	}
}

func TestDialRefusesPlain(t *testing.T) {
	_, err := Dial(context.Background(), Options{URL: "ldap://127.0.0.1:1"})
	if !errors.Is(err, ErrPlain) {
		t.Fatalf("Dial plain without AllowPlain = %v, want ErrPlain", err)
	}
}
