package redis_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestTLS checks that TLS verifies the server certificate and never falls back
// to plaintext.
func TestTLS(t *testing.T) {
	srv := testserver.RedisTLS(t)
	tests := []struct {
		name    string
		cfg     redis.Config
		wantErr error // nil: success
	}{
		{"verified with ca_file", redis.Config{TLS: true, CAFile: srv.CAFile}, nil},
		{"server name localhost", redis.Config{TLS: true, CAFile: srv.CAFile, ServerName: "localhost"}, nil},
		{"unknown CA", redis.Config{TLS: true}, store.ErrUnavailable},
		{"wrong server name", redis.Config{TLS: true, CAFile: srv.CAFile, ServerName: "redis.example.org"}, store.ErrUnavailable},
		{"plaintext to TLS port", redis.Config{}, store.ErrUnavailable},
		{"missing ca_file", redis.Config{TLS: true, CAFile: filepath.Join(t.TempDir(), "none.pem")}, errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Addrs = []string{srv.Addr}
			cfg.DialTimeout, cfg.ReadTimeout = time.Second, time.Second
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := redis.Open(ctx, cfg)
			switch {
			case tc.wantErr == nil:
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				defer s.Close()
				if _, err := s.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
					t.Fatalf("Set over TLS: %v", err)
				}
			case tc.wantErr == errAny:
				if err == nil {
					s.Close()
					t.Fatal("Open succeeded")
				}
			default:
				if !errors.Is(err, tc.wantErr) {
					if err == nil {
						s.Close()
					}
					t.Fatalf("Open = %v, want %v", err, tc.wantErr)
				}
			}
		})
	}
}

var errAny = errors.New("any error")
