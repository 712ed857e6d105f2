package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ServerConfig configures the HTTP listeners of `resetbot serve`.
type ServerConfig struct {
	// Listen is the public address for channel webhooks (Slack, Teams, Twilio).
	Listen string `yaml:"listen"`
	// AdminListen serves /metrics (and /debug/pprof when Pprof is set). Keep it
	// on loopback or a private network. Empty disables the admin listener.
	AdminListen string `yaml:"admin_listen"`
	// Pprof exposes /debug/pprof on the admin listener. Off by default.
	Pprof bool `yaml:"pprof"`
	// PublicURL is the externally visible base URL (https://bot.example.com).
	// Twilio signatures are computed over it, never over the Host header.
	PublicURL string `yaml:"public_url"`
	// ReadHeaderTimeout bounds reading request headers (slowloris).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing a response.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout bounds keep-alive connections.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ReadyTimeout bounds the readiness checks run by /readyz.
	ReadyTimeout time.Duration `yaml:"ready_timeout"`
	// MaxBodyBytes limits request bodies; larger bodies get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxInflight bounds the webhook requests the public listener works on
	// at once; beyond it a request gets 503 with Retry-After at once (Slack
	// redelivers, Twilio takes its fallback URL) instead of memory and
	// latency growing without bound. /healthz and /readyz are not counted.
	MaxInflight int `yaml:"max_inflight"`
	// MemoryLimit is the Go runtime's soft memory limit ("48MiB", "1GiB",
	// "off", or "auto": AutoMemoryLimit unless security questions are
	// enabled, whose argon2id checks need 128 MiB each): the garbage
	// collector works harder as the process nears it instead of letting the
	// heap double past the live data. It is soft: live data that needs more
	// gets more. GOMEMLIMIT, when set, wins.
	MemoryLimit string `yaml:"memory_limit"`
	// TLSCertFile and TLSKeyFile enable TLS (minimum 1.2) on the public listener.
	// Without them, terminate TLS at a proxy and set PublicURL to https.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
}

func defaultServer() ServerConfig {
	return ServerConfig{
		Listen:            ":8080",
		AdminListen:       "127.0.0.1:9090",
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ShutdownTimeout:   10 * time.Second,
		ReadyTimeout:      3 * time.Second,
		MaxBodyBytes:      1 << 20,
		MaxInflight:       256,
		MemoryLimit:       DefaultMemoryLimit,
	}
}

func (v *validator) server(s *ServerConfig) {
	const p = "server"
	if s.Listen == "" {
		v.errorf(p+".listen", "is required")
	} else if !validHostPort(s.Listen) {
		v.errorf(p+".listen", "must be host:port or :port")
	}
	if s.AdminListen != "" && !validHostPort(s.AdminListen) {
		v.errorf(p+".admin_listen", "must be host:port or :port")
	}
	if s.AdminListen != "" && s.AdminListen == s.Listen {
		v.errorf(p+".admin_listen", "must differ from server.listen: metrics and pprof must never be public")
	}
	if s.PublicURL != "" {
		u, err := url.Parse(s.PublicURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			v.errorf(p+".public_url", "must be an absolute http(s) URL such as https://bot.example.com")
		case u.User != nil || u.RawQuery != "" || u.Fragment != "":
			v.errorf(p+".public_url", "must not contain credentials, a query or a fragment")
		case u.Scheme == "http" && v.production():
			v.errorf(p+".public_url", "must use https in production (webhooks carry codes and passwords)")
		}
	}
	v.positive(p+".read_header_timeout", s.ReadHeaderTimeout)
	v.positive(p+".read_timeout", s.ReadTimeout)
	v.positive(p+".write_timeout", s.WriteTimeout)
	v.positive(p+".idle_timeout", s.IdleTimeout)
	v.positive(p+".shutdown_timeout", s.ShutdownTimeout)
	v.positive(p+".ready_timeout", s.ReadyTimeout)
	if s.MaxBodyBytes < 1024 || s.MaxBodyBytes > 64<<20 {
		v.errorf(p+".max_body_bytes", "must be between 1024 and 67108864")
	}
	if s.MaxInflight < 1 || s.MaxInflight > 100000 {
		v.errorf(p+".max_inflight", "must be between 1 and 100000")
	}
	if _, _, err := s.MemoryLimitBytes(); err != nil {
		v.errorf(p+".memory_limit", "%v", err)
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		v.errorf(p+".tls_cert_file", "tls_cert_file and tls_key_file must be set together")
	}
	v.fileExists(p+".tls_cert_file", s.TLSCertFile)
	v.fileExists(p+".tls_key_file", s.TLSKeyFile)
}

func validHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	return err == nil && port != ""
}

// Server.memory_limit's default, and the limit "auto" stands for (see
// docs/operations.md).
const (
	DefaultMemoryLimit = "auto"
	AutoMemoryLimit    = 48 << 20
)

// MemoryLimitBytes parses MemoryLimit: on is false for "off" or "";
// "auto" is AutoMemoryLimit (the caller decides when it applies).
func (s ServerConfig) MemoryLimitBytes() (n int64, on bool, err error) {
	v := strings.TrimSpace(s.MemoryLimit)
	switch v {
	case "", "off":
		return 0, false, nil
	case "auto":
		return AutoMemoryLimit, true, nil
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = rest, u.mult
			break
		}
	}
	x, err := strconv.ParseInt(v, 10, 64)
	if err != nil || x <= 0 || x > (1<<50)/mult {
		return 0, false, fmt.Errorf("must be a size such as 48MiB or 1GiB, or off")
	}
	if x*mult < 16<<20 {
		return 0, false, fmt.Errorf("must be at least 16MiB (or off)")
	}
	return x * mult, true, nil
}
