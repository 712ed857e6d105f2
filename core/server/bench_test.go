package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
