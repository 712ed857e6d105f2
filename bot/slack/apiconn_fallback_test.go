package slack

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/server"
)

// TestAPIConnsOnlyForPlainBases: the pool is used for plain http and https
// bases reached without a proxy through the Bot's own transport only.
func TestAPIConnsOnlyForPlainBases(t *testing.T) {
	tr := server.Transport(1)
	for base, want := range map[string]bool{
		"https://slack.com/api/": true, "http://127.0.0.1:8080/api/": true, "https://[::1]:8443/": true,
		"ftp://slack.com/api/": false, "https://slack.com/api/?x=1": false, "https://u:p@slack.com/api/": false,
		"https://slack.com/api": false, "https://slack.com/a%20pi/": true, "https://slack.com/a pi/": true,
		"unix:///run/slack.sock": false, "https://slack.com/api/#x": false,
	} {
		if got := newAPIConns(tr, base, apiTimeout, 1) != nil; got != want {
			t.Errorf("%s: pool %v, want %v", base, got, want)
		}
	}
	if newAPIConns(nil, "https://slack.com/api/", apiTimeout, 1) != nil {
		t.Error("a pool without the Bot's own transport")
	}
	proxied := server.Transport(1)
	proxied.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: "proxy.example:3128"})
	if newAPIConns(proxied, "https://slack.com/api/", apiTimeout, 1) != nil {
		t.Error("a pool through a proxy")
	}
}

// TestAPIConnsLeaveProxiesToTheTransport: with a proxy for the Web API,
// calls go through the HTTP client, which reaches the proxy.
func TestAPIConnsLeaveProxiesToTheTransport(t *testing.T) {
	seen := make(chan string, 1)
	proxy := newRawServer(t, func(r *rawReq) bool {
		line, _, _ := bytes.Cut(r.head, []byte("\r\n"))
		seen <- string(line)
		_, err := r.conn.Write(rawAnswer("200 OK", "", userJSON))
		return err == nil
	})
	tr := server.Transport(4)
	tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: proxy.ln.Addr().String()})
	b := tokenBot("http://slack.invalid", &http.Client{Timeout: apiTimeout, Transport: tr})
	if b.conns = newAPIConns(tr, b.apiBase(), apiTimeout, 4); b.conns != nil {
		t.Fatal("a pool through a proxy")
	}
	if _, err := callUser(t, context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if line := <-seen; line != "POST http://slack.invalid/api/users.info HTTP/1.1" {
		t.Errorf("the proxy got %q", line)
	}
}

// countingTransport counts the requests a test's RoundTripper carries.
type countingTransport struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.URL.Path]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestAPIConnsWiring: New uses the pool with the HTTP client it builds;
// a Transport given to Open sees every call.
func TestAPIConnsWiring(t *testing.T) {
	e := newEnv(t, false)
	if e.b.conns == nil {
		t.Fatal("New built its own client but no pool")
	}
	if _, err := e.b.usersInfo(context.Background(), "U1"); err != nil || e.f.callCount("users.info") != 1 {
		t.Fatalf("users.info over the pool: %v, %d calls", err, e.f.callCount("users.info"))
	}
	ct := &countingTransport{n: map[string]int{}}
	d := e.a.ChannelDeps(e.b.log)
	d.Transport = ct
	s := *slackOf(e.a.Config)
	s.APIURL = strings.TrimSuffix(e.f.URL(), "/")
	ch, err := Open(context.Background(), d, s)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ch.Shutdown(context.Background()) }()
	b := ch.(*opened).b
	if b.conns != nil {
		t.Fatal("a pool beside a Transport given to Open")
	}
	if _, err := b.usersInfo(context.Background(), "U1"); err != nil {
		t.Fatal(err)
	}
	if err := b.postMessage(context.Background(), "D1", []slack.Block{section("hi")}, "hi"); err != nil {
		t.Fatal(err)
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.n["/api/users.info"] != 1 || ct.n["/api/chat.postMessage"] != 1 {
		t.Errorf("the given Transport carried %v", ct.n)
	}
}

// TestAPIConnsLeaveEnvironmentProxiesToTheTransport: with HTTPS_PROXY or
// HTTP_PROXY set, the Bot's own transport (http.ProxyFromEnvironment) uses
// the proxy, so the pool is not used. net/http reads the environment once
// per process: the check runs in a child test process.
func TestAPIConnsLeaveEnvironmentProxiesToTheTransport(t *testing.T) {
	if os.Getenv("APICONNS_PROXY_CHILD") == "1" {
		for base, want := range map[string]bool{
			"https://slack.com/api/": false, "http://slack.example/api/": false,
			"http://127.0.0.1:8080/api/": true, // loopback is never proxied
		} {
			if got := newAPIConns(server.Transport(1), base, apiTimeout, 1) != nil; got != want {
				t.Errorf("%s: pool %v, want %v", base, got, want)
			}
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAPIConnsLeaveEnvironmentProxiesToTheTransport$", "-test.count=1")
	cmd.Env = append(os.Environ(), "APICONNS_PROXY_CHILD=1", "HTTPS_PROXY=http://proxy.example:3128",
		"HTTP_PROXY=http://proxy.example:3128", "NO_PROXY=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
