package server_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/server"
)

// TestSharedHeaderValuesStayPut checks that a handler changing the secure
// headers (Set, Add, Del) through the Header methods
// changes only its own response: the server assigns shared value slices,
// and a later request must still get exactly the values it always did.
func TestSharedHeaderValuesStayPut(t *testing.T) {
	s, _, _ := newServer(t, nil)
	s.Handle("/meddle", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Add("Cache-Control", "private")
		h.Add("X-Content-Type-Options", "other")
		h.Add("X-Request-Id", "forged")
		h.Set("Cache-Control", "max-age=1")
		h.Del("X-Content-Type-Options")
		w.WriteHeader(http.StatusNoContent)
	}))
	s.Handle("/plain", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(s.PublicHandler())
	defer srv.Close()
	ids := map[string]bool{}
	for i := range 3 {
		for _, path := range []string{"/meddle", "/plain"} {
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if path == "/meddle" {
				if got := resp.Header.Values("Cache-Control"); !slices.Equal(got, []string{"max-age=1"}) {
					t.Errorf("%d %s: Cache-Control %q", i, path, got)
				}
				continue
			}
			for k, want := range map[string][]string{"Cache-Control": {"no-store"}, "X-Content-Type-Options": {"nosniff"}} {
				if got := resp.Header.Values(k); !slices.Equal(got, want) {
					t.Errorf("%d %s: %s = %q, want %q", i, path, k, got, want)
				}
			}
			id := resp.Header.Values("X-Request-Id")
			if len(id) != 1 || len(id[0]) != 16 || ids[id[0]] {
				t.Errorf("%d %s: X-Request-Id %q (seen before: %v)", i, path, id, len(id) == 1 && ids[id[0]])
			}
			ids[strings.Join(id, ",")] = true
		}
	}
}

// TestWireHeaders pins the header lines of a public response as net/http
// writes them: the server sets them without Header.Set, and the bytes on
// the wire must not change.
func TestWireHeaders(t *testing.T) {
	s, _, _ := newServer(t, nil)
	s.Handle("POST /hook", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	srv := httptest.NewServer(s.PublicHandler())
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"); err != nil {
		t.Fatal(err)
	}
	var lines []string
	br := bufio.NewReader(c)
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "\r\n" {
			break
		}
		lines = append(lines, l)
	}
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "X-Request-Id: ") && len(l) == len("X-Request-Id: ")+16+2:
			lines[i] = "X-Request-Id: <id>\r\n"
		case strings.HasPrefix(l, "Date: "):
			lines[i] = "Date: <date>\r\n"
		}
	}
	want := []string{"HTTP/1.1 200 OK\r\n", "Cache-Control: no-store\r\n", "X-Content-Type-Options: nosniff\r\n",
		"X-Request-Id: <id>\r\n", "Date: <date>\r\n", "Content-Length: 0\r\n", "Connection: close\r\n"}
	if !slices.Equal(lines, want) {
		t.Errorf("header lines:\n%q\nwant\n%q", lines, want)
	}
}

// TestReadBodyDeclaredLength checks that ReadBody, which sizes its buffer
// from Content-Length, reads what the body holds whatever length was
// declared, and that the limit holds when the declared length lies in
// either direction.
func TestReadBodyDeclaredLength(t *testing.T) {
	const limit = 1024
	read := func(body string, declared int64) (int, string) {
		var got string
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			b, ok := server.ReadBody(w, r)
			if ok {
				got = string(b)
			}
		})
		req := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(strings.NewReader(body)))
		req.ContentLength = declared
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, got
	}
	under, over := strings.Repeat("u", limit), strings.Repeat("o", limit+1)
	for _, tc := range []struct {
		name     string
		body     string
		declared int64
		code     int
	}{
		{"exact", "hello", 5, 200},
		{"unknown", "hello", -1, 200},
		{"declared short", "hello world", 3, 200},
		{"declared long", "hi", 500, 200},
		{"declared huge", "hi", 1 << 40, 200},
		{"at limit", under, limit, 200},
		{"at limit, declared short", under, 10, 200},
		{"over limit", over, limit + 1, http.StatusRequestEntityTooLarge},
		{"over limit, declared short", over, 10, http.StatusRequestEntityTooLarge},
		{"over limit, declared at limit", over, limit, http.StatusRequestEntityTooLarge},
		{"over limit, unknown", over, -1, http.StatusRequestEntityTooLarge},
		{"over limit, declared huge", over, 1 << 40, http.StatusRequestEntityTooLarge},
	} {
		code, got := read(tc.body, tc.declared)
		if code != tc.code || (code == 200 && got != tc.body) {
			t.Errorf("%s: %d, %d bytes; want %d with the body", tc.name, code, len(got), tc.code)
		}
	}
}

// TestRequestContext checks the context public handlers get: it carries
// the request ID and the values of the request's context, and a
// cancellation of the request reaches contexts derived from it.
func TestRequestContext(t *testing.T) {
	type key struct{}
	s, _, _ := newServer(t, nil)
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	defer cancel()
	var id string
	var cut, valued bool
	s.Handle("/ctx", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id = server.RequestID(r.Context())
		valued = r.Context().Value(key{}) == "v"
		// Children attach to the parent's cancellation directly: a
		// context type the context package cannot see through would cost
		// a goroutine per child, watching Done.
		before := runtime.NumGoroutine()
		var stops []context.CancelFunc
		for range 200 {
			_, stop := context.WithCancel(r.Context())
			stops = append(stops, stop)
		}
		if n := runtime.NumGoroutine() - before; n > 20 {
			t.Errorf("200 children of the request context started %d goroutines", n)
		}
		for _, stop := range stops {
			stop()
		}
		ctx, stop := context.WithTimeout(r.Context(), time.Minute)
		defer stop()
		cancel()
		select {
		case <-ctx.Done():
			cut = true
		case <-time.After(5 * time.Second):
		}
	}))
	rec := httptest.NewRecorder()
	s.PublicHandler().ServeHTTP(rec, httptest.NewRequestWithContext(parent, http.MethodGet, "/ctx", nil))
	if id == "" || id != rec.Header().Get("X-Request-Id") || !valued || !cut {
		t.Errorf("id %q (header %q), parent value %v, cancellation passed %v", id, rec.Header().Get("X-Request-Id"), valued, cut)
	}
	if server.RequestID(context.Background()) != "" {
		t.Errorf("RequestID outside a request is not empty")
	}
}
