package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/server"
)

// BenchmarkPublicMiddleware measures the per-request cost of the middleware
// chain (request ID, metrics, recovery, body limit, headers) on a trivial route.
func BenchmarkPublicMiddleware(b *testing.B) {
	s, _, _ := newServer(b, nil)
	s.Handle("POST /hook", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	h := s.PublicHandler()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader("payload=1"))
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

// BenchmarkReadBody measures ReadBody on webhook-sized bodies with their
// Content-Length declared, as net/http hands them over.
func BenchmarkReadBody(b *testing.B) {
	for _, n := range []int{300, 3000, 30000} {
		body := strings.Repeat("x", n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			req := httptest.NewRequest(http.MethodPost, "/hook", nil)
			w := httptest.NewRecorder()
			rd := strings.NewReader(body)
			for b.Loop() {
				rd.Reset(body)
				req.Body, req.ContentLength = io.NopCloser(rd), int64(n)
				if _, ok := server.ReadBody(w, req); !ok {
					b.Fatal("not read")
				}
			}
		})
	}
}
