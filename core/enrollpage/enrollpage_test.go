package enrollpage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/server"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
)

const (
	seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	base = "https://bot.example.com"
)

var png = []byte("\x89PNG-fake-qr-image-bytes")

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type rig struct {
	pages *enrollpage.Pages
	clk   *clock
	st    store.Store
	logs  *bytes.Buffer
	rec   *audit.Recorder
}

func newRig(t *testing.T, st store.Store, clk *clock) *rig {
	t.Helper()
	cat, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{clk: clk, st: st, logs: &bytes.Buffer{}, rec: &audit.Recorder{}}
	r.pages, err = enrollpage.New(enrollpage.Options{Store: st, Key: bytes.Repeat([]byte{7}, 32), PublicURL: base + "/",
		Texts: cat, Audit: r.rec, Log: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func memRig(t *testing.T) *rig {
	clk := &clock{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	return newRig(t, memory.New(memory.WithClock(clk.now)), clk)
}

func (r *rig) issue(t *testing.T, conv string) string {
	t.Helper()
	l, err := r.pages.Issue(t.Context(), enrollpage.Grant{Conversation: conv, Channel: "slack", Platform: "Slack", Locale: "es",
		PNG: png, Key: secret.New(seed)})
	if err != nil {
		t.Fatal(err)
	}
	if !enrollpage.Check(base, l.URL.Reveal()) {
		t.Fatalf("link %q is not a /enroll link with a fragment", l.URL.Reveal())
	}
	u, _ := url.Parse(l.URL.Reveal())
	if u.RawQuery != "" || u.Path != enrollpage.Path {
		t.Fatalf("the token must travel only in the fragment: %q", l.URL.Reveal())
	}
	if got := l.Expires.Sub(r.clk.now()); got != enrollpage.MaxTTL {
		t.Fatalf("page lives %v, want %v", got, enrollpage.MaxTTL)
	}
	return u.Fragment
}

func (r *rig) do(method, tok string) *httptest.ResponseRecorder {
	var req *http.Request
	if method == http.MethodPost {
		req = httptest.NewRequest(method, enrollpage.Path, strings.NewReader(url.Values{"t": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, enrollpage.Path, nil)
	}
	w := httptest.NewRecorder()
	r.pages.ServeHTTP(w, req)
	return w
}

func checkHeaders(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	h := w.Header()
	want := map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
		"X-Content-Type-Options": "nosniff"}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, part := range []string{"default-src 'none'", "img-src data:", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "*") {
		t.Errorf("CSP is not strict: %q", csp)
	}
}

func TestGetShowsOnlyAButtonAndConsumesNothing(t *testing.T) {
	r := memRig(t)
	tok := r.issue(t, "slack:T1:U1")
	for range 3 { // link previews, unfurlers, URL scanners
		w := r.do(http.MethodGet, "")
		checkHeaders(t, w)
		body := w.Body.String()
		if w.Code != http.StatusOK || !strings.Contains(body, `<form method="post"`) || strings.Contains(body, "<img") ||
			strings.Contains(body, "data:image") {
			t.Fatalf("GET: %d %s", w.Code, body)
		}
	}
	w := r.do(http.MethodPost, tok)
	if w.Code != http.StatusOK {
		t.Fatalf("POST after GETs: %d, want 200 (GET must consume nothing)", w.Code)
	}
}

func TestPostRevealsOnce(t *testing.T) {
	r := memRig(t)
	tok := r.issue(t, "slack:T1:U1")
	w := r.do(http.MethodPost, tok)
	checkHeaders(t, w)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, "data:image/png;base64,"+base64.StdEncoding.EncodeToString(png)) {
		t.Fatalf("first POST: %d %s", w.Code, body)
	}
	if !strings.Contains(body, "JBSW Y3DP EHPK 3PXP") || !strings.Contains(body, `lang="es"`) || !strings.Contains(body, "Slack") {
		t.Fatalf("page lacks the grouped setup key, the person's language or the way back: %s", body)
	}
	if strings.Contains(body, "<form") {
		t.Fatal("the revealed page must not offer the button again")
	}
	for range 2 {
		w = r.do(http.MethodPost, tok)
		checkHeaders(t, w)
		if w.Code != http.StatusGone || strings.Contains(w.Body.String(), "data:image") || strings.Contains(w.Body.String(), "JBSW") {
			t.Fatalf("second POST: %d %s", w.Code, w.Body.String())
		}
	}
	if len(r.rec.Find(enrollpage.NameRedeemed)) != 1 || len(r.rec.Find(enrollpage.NameRefused)) != 2 {
		t.Fatalf("audit: %v", r.rec.Names())
	}
	sweepLogs(t, r, tok)
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		prep func(t *testing.T, r *rig)
		tok  func(tok string) string
	}{
		{"expired", func(_ *testing.T, r *rig) { r.clk.add(enrollpage.MaxTTL + time.Second) }, nil},
		{"revoked", func(_ *testing.T, r *rig) { _ = r.pages.Revoke(context.Background(), "teams:conv1") }, nil},
		{"replaced", func(t *testing.T, r *rig) { r.issue(t, "teams:conv1") }, nil},
		// The first character: every bit of it is data (the last one may
		// carry padding bits a decoder ignores), and it always changes.
		{"tampered", nil, func(tok string) string {
			c := "A"
			if tok[0] == 'A' {
				c = "B"
			}
			return c + tok[1:]
		}},
		{"truncated", nil, func(tok string) string { return tok[:20] }},
		{"empty", nil, func(string) string { return "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := memRig(t)
			tok := r.issue(t, "teams:conv1")
			if tc.prep != nil {
				tc.prep(t, r)
			}
			sent := tok
			if tc.tok != nil {
				sent = tc.tok(tok)
			}
			if w := r.do(http.MethodPost, sent); w.Code != http.StatusGone || strings.Contains(w.Body.String(), "data:image") {
				t.Fatalf("%d %s", w.Code, w.Body.String())
			}
		})
	}
	t.Run("repeated field", func(t *testing.T) {
		r := memRig(t)
		tok := r.issue(t, "c")
		req := httptest.NewRequest(http.MethodPost, enrollpage.Path, strings.NewReader("t="+tok+"&t="+tok))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		r.pages.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("oversized body", func(t *testing.T) {
		r := memRig(t)
		req := httptest.NewRequest(http.MethodPost, enrollpage.Path, strings.NewReader("t="+strings.Repeat("a", 4096)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		r.pages.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("other methods", func(t *testing.T) {
		r := memRig(t)
		if w := r.do(http.MethodPut, ""); w.Code != http.StatusMethodNotAllowed {
			t.Fatalf("%d", w.Code)
		}
	})
}

// TestCSPPinsTheInlineScriptAndStyle proves the served script and style are
// exactly the ones the policy allows (a browser would block anything else).
func TestCSPPinsTheInlineScriptAndStyle(t *testing.T) {
	r := memRig(t)
	w := r.do(http.MethodGet, "")
	csp, body := w.Header().Get("Content-Security-Policy"), w.Body.String()
	for _, tag := range []string{"script", "style"} {
		m := regexp.MustCompile(`<`+tag+`>([^<]*)</`+tag+`>`).FindAllStringSubmatch(body, -1)
		if len(m) != 1 {
			t.Fatalf("want one inline %s, got %d", tag, len(m))
		}
		sum := sha256.Sum256([]byte(m[0][1]))
		if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, tag+"-src "+h) {
			t.Fatalf("%s hash %s not pinned in %q", tag, h, csp)
		}
	}
}

// TestStoreHoldsNeitherTokenNorSeed dumps every key and value of a real
// redis-server after issuing a page: the token, the seed and the QR image
// are absent; a second replica redeems the page once.
func TestStoreHoldsNeitherTokenNorSeed(t *testing.T) {
	addr := testserver.Redis(t)
	open := func() store.Store {
		s, err := redis.Open(t.Context(), redis.Config{Addrs: []string{addr}, KeyPrefix: "rb:"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	clk := &clock{t: time.Now()}
	a, b := newRig(t, open(), clk), newRig(t, open(), clk)
	tok := a.issue(t, "slack:T1:U1")
	raw := goredis.NewClient(&goredis.Options{Addr: addr})
	defer raw.Close()
	keys, err := raw.Keys(t.Context(), "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	for _, k := range keys {
		v, _ := raw.Dump(t.Context(), k).Result()
		for _, s := range []string{tok, seed, string(png), base64.StdEncoding.EncodeToString(png)} {
			if strings.Contains(k, s) || strings.Contains(v, s) {
				t.Fatalf("key %q or its value holds a secret", k)
			}
		}
		if ttl, _ := raw.TTL(t.Context(), k).Result(); ttl <= 0 || ttl > enrollpage.MaxTTL {
			t.Fatalf("key %q has TTL %v", k, ttl)
		}
	}
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr := a
			if i%2 == 1 {
				rr = b
			}
			codes[i] = rr.do(http.MethodPost, tok).Code
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("8 concurrent redemptions on two replicas: %d succeeded, want exactly 1 (%v)", ok, codes)
	}
}

func sweepLogs(t *testing.T, r *rig, tok string) {
	t.Helper()
	for _, s := range []string{tok, seed} {
		if strings.Contains(r.logs.String(), s) {
			t.Fatal("a secret reached the log")
		}
		for _, e := range r.rec.Events() {
			if strings.Contains(e.Reason+e.Actor+e.Ref+strings.Join(mapValues(e.Fields), ""), s) {
				t.Fatal("a secret reached the audit")
			}
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestServedThroughTheServer mounts the page on the public listener as
// `serve` does: the headers survive the middleware, the body limit holds and
// the request log names the route, never the token.
func TestServedThroughTheServer(t *testing.T) {
	r := memRig(t)
	tok := r.issue(t, "slack:T1:U1")
	var logs bytes.Buffer
	srv := server.New(server.Settings{}, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), nil)
	srv.Handle(enrollpage.Path, r.pages)
	h := srv.PublicHandler()
	req := httptest.NewRequest(http.MethodPost, enrollpage.Path, strings.NewReader(url.Values{"t": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	checkHeaders(t, w)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "data:image/png") {
		t.Fatalf("POST through the server: %d", w.Code)
	}
	if strings.Contains(logs.String(), tok) || strings.Contains(logs.String(), seed) {
		t.Fatal("a secret reached the server log")
	}
}
