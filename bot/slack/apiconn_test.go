package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/server"
)

// userJSON is the users.info answer of the apiConns tests.
const userJSON = `{"ok":true,"user":{"team_id":"T1","locale":"en-US"}}`

// rawAnswer is an HTTP/1.1 answer with a Content-Length.
func rawAnswer(status, headers, body string) []byte {
	return []byte("HTTP/1.1 " + status + "\r\n" + headers + "Content-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// answerAll answers every request with a.
func answerAll(a []byte) func(r *rawReq) bool {
	return func(r *rawReq) bool { _, err := r.conn.Write(a); return err == nil }
}

// connBot is a Bot (only what callForm needs) whose calls go over apiConns
// to the Web API at base, keeping up to 4 idle connections.
func connBot(t testing.TB, base string) *Bot {
	t.Helper()
	tr := server.Transport(4)
	b := tokenBot(strings.TrimSuffix(base, "/api/"), &http.Client{Timeout: apiTimeout, Transport: tr})
	if b.conns = newAPIConns(tr, b.apiBase(), apiTimeout, 4); b.conns == nil {
		t.Fatalf("no apiConns for %s", base)
	}
	t.Cleanup(b.conns.close)
	return b
}

// callUser is usersInfo, failing the test if an error names the token.
func callUser(t testing.TB, ctx context.Context, b *Bot) (userInfo, error) {
	t.Helper()
	u, err := b.usersInfo(ctx, "U1")
	if err != nil && (strings.Contains(err.Error(), usersInfoTok) || strings.Contains(err.Error(), url.QueryEscape(usersInfoTok))) {
		t.Errorf("error names the token: %v", err)
	}
	return u, err
}

// idleConns is how many connections b's pool keeps.
func idleConns(b *Bot) int {
	b.conns.mu.Lock()
	defer b.conns.mu.Unlock()
	return len(b.conns.idle)
}

// TestAPIConnsSendWhatTheTransportSends: the request written on the
// connection is the one net/http's Transport writes for callForm, header
// for header and byte for byte, but for the Accept-Encoding it adds.
func TestAPIConnsSendWhatTheTransportSends(t *testing.T) {
	heads := make(chan string, 2)
	srv := newRawServer(t, func(r *rawReq) bool {
		heads <- string(r.head) + "\r\n" + string(r.body)
		_, err := r.conn.Write(rawAnswer("200 OK", "", userJSON))
		return err == nil
	})
	b := connBot(t, srv.base())
	if _, err := callUser(t, context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ours := <-heads
	b.conns = nil
	if _, err := callUser(t, context.Background(), b); err != nil {
		t.Fatal(err)
	}
	theirs := strings.Replace(<-heads, "Accept-Encoding: gzip\r\n", "", 1)
	if ours != theirs {
		t.Errorf("apiConns wrote\n%q\nnet/http writes\n%q", ours, theirs)
	}
}

// TestAPIConnsKeepAlive: calls one after the other use one connection.
func TestAPIConnsKeepAlive(t *testing.T) {
	srv := newRawServer(t, answerAll(rawAnswer("200 OK", "", userJSON)))
	b := connBot(t, srv.base())
	for range 20 {
		u, err := callUser(t, context.Background(), b)
		if err != nil || u.TeamID != "T1" || u.Locale != "en-US" {
			t.Fatalf("users.info: %+v, %v", u, err)
		}
	}
	if n, r := srv.conns.Load(), srv.reqs.Load(); n != 1 || r != 20 {
		t.Errorf("%d calls: %d connections, %d requests; want 1 and 20", 20, n, r)
	}
	if n := idleConns(b); n != 1 {
		t.Errorf("%d idle connections, want 1", n)
	}
}

// TestAPIConnsSendAgainWhenTheServerClosedAnIdleConnection: a kept-alive
// connection the server closed after answering is found closed by the
// next call, which sends its request once more on a new connection; the
// server gets each request once.
func TestAPIConnsSendAgainWhenTheServerClosedAnIdleConnection(t *testing.T) {
	closed := make(chan struct{}, 1)
	srv := newRawServer(t, func(r *rawReq) bool {
		_, _ = r.conn.Write(rawAnswer("200 OK", "", userJSON))
		if r.n == 1 {
			_ = r.conn.Close()
			closed <- struct{}{}
			return false
		}
		return true
	})
	b := connBot(t, srv.base())
	if _, err := callUser(t, context.Background(), b); err != nil {
		t.Fatal(err)
	}
	<-closed
	if n := idleConns(b); n != 1 {
		t.Fatalf("%d idle connections, want 1", n)
	}
	if _, err := callUser(t, context.Background(), b); err != nil {
		t.Fatalf("second call: %v", err)
	}
	if n, r := srv.conns.Load(), srv.reqs.Load(); n != 2 || r != 2 {
		t.Errorf("%d connections, %d requests; want 2 and 2", n, r)
	}
}

// TestAPIConnsNeverSendTwiceWhatTheServerRead: a request the server read
// on a new connection, then closed it without answering, is an error; it
// is not sent again. Neither is one whose answer the server began.
func TestAPIConnsNeverSendTwiceWhatTheServerRead(t *testing.T) {
	srv := newRawServer(t, func(r *rawReq) bool { return false })
	b := connBot(t, srv.base())
	if _, err := callUser(t, context.Background(), b); err == nil {
		t.Fatal("no answer: no error")
	} else if _, again := postRetry(err, time.Millisecond); !again {
		t.Errorf("a dropped connection is not retried by post: %v", err)
	}
	if r := srv.reqs.Load(); r != 1 {
		t.Errorf("the server read %d requests, want 1", r)
	}

	// On a kept-alive connection, the answer's first bytes then a close.
	srv = newRawServer(t, func(r *rawReq) bool {
		if r.seq == 1 {
			_, err := r.conn.Write(rawAnswer("200 OK", "", userJSON))
			return err == nil
		}
		_, _ = io.WriteString(r.conn, "HTTP/1.1 200 OK\r\nContent-Le")
		return false
	})
	b = connBot(t, srv.base())
	if _, err := callUser(t, context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if _, err := callUser(t, context.Background(), b); err == nil {
		t.Fatal("a cut answer: no error")
	}
	if n, r := srv.conns.Load(), srv.reqs.Load(); n != 1 || r != 2 {
		t.Errorf("%d connections, %d requests; want 1 and 2", n, r)
	}
}

// TestAPIConnsReadChunkedAnswers: a chunked answer is read whole, and its
// connection kept.
func TestAPIConnsReadChunkedAnswers(t *testing.T) {
	var chunked bytes.Buffer
	chunked.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
	for s := userJSON; s != ""; s = s[min(7, len(s)):] {
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", min(7, len(s)), s[:min(7, len(s))])
	}
	chunked.WriteString("0\r\n\r\n")
	srv := newRawServer(t, answerAll(chunked.Bytes()))
	b := connBot(t, srv.base())
	for range 3 {
		if u, err := callUser(t, context.Background(), b); err != nil || u.TeamID != "T1" {
			t.Fatalf("users.info: %+v, %v", u, err)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestAPIConnsHonourConnectionClose: an answer saying Connection: close
// leaves its connection closed; the next call dials, sending nothing twice.
func TestAPIConnsHonourConnectionClose(t *testing.T) {
	srv := newRawServer(t, answerAll(rawAnswer("200 OK", "Connection: close\r\n", userJSON)))
	b := connBot(t, srv.base())
	for range 2 {
		if _, err := callUser(t, context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if n := idleConns(b); n != 0 {
			t.Errorf("%d idle connections after Connection: close", n)
		}
	}
	if n, r := srv.conns.Load(), srv.reqs.Load(); n != 2 || r != 2 {
		t.Errorf("%d connections, %d requests; want 2 and 2", n, r)
	}
}

// TestAPIConnsErrorsAreSlackGos: a 429, a 500, a refusal and a malformed
// answer are the errors callForm documents; each connection is kept.
func TestAPIConnsErrorsAreSlackGos(t *testing.T) {
	answers := [][]byte{
		rawAnswer("429 Too Many Requests", "Retry-After: 3\r\n", `{"ok":false,"error":"ratelimited"}`),
		rawAnswer("500 Internal Server Error", "", usersInfoTok),
		rawAnswer("200 OK", "", `{"ok":false,"error":"invalid_auth","token":"`+usersInfoTok+`"}`),
		rawAnswer("200 OK", "", usersInfoTok),
	}
	srv := newRawServer(t, func(r *rawReq) bool {
		_, err := r.conn.Write(answers[(r.n-1)%int64(len(answers))])
		return err == nil
	})
	b := connBot(t, srv.base())
	ctx := context.Background()
	var rl *slack.RateLimitedError
	if _, err := callUser(t, ctx, b); !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Errorf("429: %#v", err)
	}
	if _, err := callUser(t, ctx, b); !errors.Is(err, slack.StatusCodeError{Code: 500, Status: "500 Internal Server Error"}) {
		t.Errorf("500: %#v", err)
	}
	var se slack.SlackErrorResponse
	if _, err := callUser(t, ctx, b); !errors.As(err, &se) || se.Err != "invalid_auth" {
		t.Errorf("ok false: %#v", err)
	}
	if _, err := callUser(t, ctx, b); err == nil || !strings.Contains(err.Error(), "users.info answer") {
		t.Errorf("malformed: %v", err)
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestAPIConnsBoundTheAnswer: an answer past maxAPIResponse is an error;
// its connection, not read to the end, is closed.
func TestAPIConnsBoundTheAnswer(t *testing.T) {
	big := `{"ok":true,"user":{"locale":"` + strings.Repeat("a", maxAPIResponse) + `"}}`
	srv := newRawServer(t, answerAll(rawAnswer("200 OK", "", big)))
	b := connBot(t, srv.base())
	if _, err := callUser(t, context.Background(), b); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized answer: %v", err)
	}
	if n := idleConns(b); n != 0 {
		t.Errorf("%d idle connections after an oversized answer", n)
	}
}

// TestAPIConnsEndWithTheirContext: a call whose context is cancelled, or
// whose deadline passes, while the server stalls returns at once with the
// context's error, and its connection is not kept.
func TestAPIConnsEndWithTheirContext(t *testing.T) {
	release := make(chan struct{})
	srv := newRawServer(t, func(r *rawReq) bool {
		if r.n <= 2 {
			<-release
			return false
		}
		_, err := r.conn.Write(rawAnswer("200 OK", "", userJSON))
		return err == nil
	})
	t.Cleanup(func() { close(release) })
	b := connBot(t, srv.base())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := callUser(t, ctx, b)
	if took := time.Since(start); !errors.Is(err, context.Canceled) || took > 2*time.Second {
		t.Errorf("cancelled: %v after %v", err, took)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer dcancel()
	_, err = callUser(t, dctx, b)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	if _, again := postRetry(err, time.Millisecond); again {
		t.Errorf("post would retry a call past its deadline: %v", err)
	}
	if n := idleConns(b); n != 0 {
		t.Errorf("%d idle connections after cut calls", n)
	}
	if _, err := callUser(t, context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if n, r := srv.conns.Load(), srv.reqs.Load(); n != 3 || r != 3 {
		t.Errorf("%d connections, %d requests; want 3 and 3", n, r)
	}
}

// TestAPIConnsCloseWithTheBot: Bot.Shutdown closes the idle connections,
// and a connection used afterwards is not kept.
func TestAPIConnsCloseWithTheBot(t *testing.T) {
	e := newEnv(t, false)
	o := e.b.o
	o.HTTPClient = nil
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.usersInfo(context.Background(), "U1"); err != nil {
		t.Fatal(err)
	}
	if n := idleConns(b); n != 1 {
		t.Fatalf("%d idle connections, want 1", n)
	}
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := idleConns(b); n != 0 {
		t.Errorf("%d idle connections after Shutdown", n)
	}
	if _, err := b.usersInfo(context.Background(), "U2"); err != nil {
		t.Fatal(err)
	}
	if n := idleConns(b); n != 0 {
		t.Errorf("%d idle connections after Shutdown", n)
	}
}

// TestAPIConnsNeverShareAConnection: concurrent posts each get their own
// connection and their own buffers: every form reaches the server whole,
// never two requests at once on one connection.
func TestAPIConnsNeverShareAConnection(t *testing.T) {
	var mu sync.Mutex
	var bad []string
	ok := rawAnswer("200 OK", "", `{"ok":true}`)
	srv := newRawServer(t, func(r *rawReq) bool {
		f, err := url.ParseQuery(string(r.body))
		if ch := f.Get("channel"); err != nil || f.Get("token") != usersInfoTok || f.Get("text") != "to "+ch ||
			!strings.Contains(f.Get("blocks"), "block "+ch) {
			mu.Lock()
			bad = append(bad, string(r.body))
			mu.Unlock()
		}
		_, err = r.conn.Write(ok)
		return err == nil
	})
	b := connBot(t, srv.base())
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 40 {
				ch := "D" + strconv.Itoa(g) + "x" + strconv.Itoa(i)
				if err := b.postMessage(context.Background(), ch, []slack.Block{section("block " + ch)}, "to "+ch); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if srv.shared.Load() {
		t.Error("two requests were written at once on one connection")
	}
	if len(bad) > 0 {
		t.Errorf("%d forms mixed up, e.g. %.200q", len(bad), bad[0])
	}
	if n := idleConns(b); n > 4 {
		t.Errorf("%d idle connections, the pool keeps 4", n)
	}
}

// TestAPIConnsKeepTheTokenSecret is TestUsersInfoKeepsTheTokenSecret over
// apiConns: the token reaches Slack, and no error names it.
func TestAPIConnsKeepTheTokenSecret(t *testing.T) {
	esc := url.QueryEscape(usersInfoTok)
	for _, a := range tokenLeakAnswers() {
		reqs := make(chan string, 1)
		srv := usersInfoServer(t, &a, reqs)
		b := connBot(t, srv.URL+"/api/")
		if _, err := callUser(t, context.Background(), b); err == nil {
			t.Errorf("answer %d %.40q: no error", a.status, a.body)
		}
		if r := <-reqs; !strings.Contains(r, "&token="+esc+"&") {
			t.Errorf("the token was not sent: %s", r)
		}
	}
}

// TestAPIConnsDialErrorsNameNoToken: a call that cannot connect fails with
// an error naming the URL, not the form.
func TestAPIConnsDialErrorsNameNoToken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	b := connBot(t, "http://"+addr+"/api/")
	_, err = callUser(t, context.Background(), b)
	var ue *url.Error
	if !errors.As(err, &ue) || ue.URL != "http://"+addr+"/api/users.info" {
		t.Errorf("dial failure: %#v", err)
	}
}

// TestAPIConnsReadBrokenAnswers: an answer cut in its body fails as a body
// read fails through net/http (not a transport error post would send
// again); a malformed one fails as a transport error; an informational
// answer before the answer is skipped. Nothing is sent twice.
func TestAPIConnsReadBrokenAnswers(t *testing.T) {
	answers := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"ok\":",
		"HTTP/1.1 two hundred\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + string(rawAnswer("200 OK", "", userJSON)),
	}
	srv := newRawServer(t, func(r *rawReq) bool {
		_, _ = io.WriteString(r.conn, answers[r.n-1])
		return r.n == 3
	})
	b := connBot(t, srv.base())
	var ue *url.Error
	_, err := callUser(t, context.Background(), b)
	if !errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ue) {
		t.Errorf("cut body: %#v", err)
	}
	if _, again := postRetry(err, time.Millisecond); again {
		t.Errorf("post would send again an answered request: %v", err)
	}
	if _, err := callUser(t, context.Background(), b); !errors.As(err, &ue) {
		t.Errorf("malformed answer: %#v", err)
	}
	if u, err := callUser(t, context.Background(), b); err != nil || u.TeamID != "T1" {
		t.Errorf("after 103: %+v, %v", u, err)
	}
	if n, r := srv.conns.Load(), srv.reqs.Load(); n != 3 || r != 3 {
		t.Errorf("%d connections, %d requests; want 3 and 3", n, r)
	}
	if n := idleConns(b); n != 1 {
		t.Errorf("%d idle connections, want 1", n)
	}
}

// TestAPIConnsDropStaleConnections: connections idle longer than the
// transport's IdleConnTimeout are closed instead of used, whether a call
// finds one on top of the pool or a returning one finds it at the bottom.
func TestAPIConnsDropStaleConnections(t *testing.T) {
	srv := newRawServer(t, answerAll(rawAnswer("200 OK", "", userJSON)))
	b := connBot(t, srv.base())
	p := b.conns
	now := time.Now()
	var cs []*apiConn
	for range 3 {
		c, err := p.connect(context.Background(), now.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	half := p.idleTTL / 2
	p.put(cs[0], now.Add(-half))
	p.put(cs[1], now)
	if n := idleConns(b); n != 2 {
		t.Fatalf("%d idle connections, want 2", n)
	}
	p.put(cs[2], now.Add(half)) // finds cs[0] stale at the bottom
	if n := idleConns(b); n != 2 || p.idle[0] != cs[1] {
		t.Fatalf("%d idle connections, want 2 without the stale one", n)
	}
	if c := p.get(now.Add(2 * p.idleTTL)); c != nil {
		t.Fatal("a stale connection was taken")
	}
	if n := idleConns(b); n != 0 {
		t.Errorf("%d idle connections, want none", n)
	}
	for _, c := range cs {
		if _, err := c.nc.Write([]byte("x")); err == nil {
			t.Error("a dropped connection is still open")
		}
	}
}
