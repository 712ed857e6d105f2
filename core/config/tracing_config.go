package config

import (
	"net/url"

	"github.com/resetbot/resetbot/core/plugin"
)

// TracingConfig turns on OpenTelemetry traces, exported over OTLP/HTTP.
// Off (the default) when Endpoint is empty. Spans carry operation names,
// channels, directory names and outcomes; never a user, a login, a
// destination or anything typed.
type TracingConfig struct {
	// Endpoint is the collector's OTLP/HTTP base URL, e.g.
	// https://otel-collector:4318 (traces go to /v1/traces).
	Endpoint string `yaml:"otlp_endpoint"`
	// SampleRatio is the share of new traces kept, 0 to 1 (default 1).
	SampleRatio float64 `yaml:"sample_ratio"`
}

func defaultTracing() TracingConfig { return TracingConfig{SampleRatio: 1} }

func (v *validator) tracing(t *TracingConfig) {
	const p = "tracing"
	if t.SampleRatio < 0 || t.SampleRatio > 1 {
		v.errorf(p+".sample_ratio", "must be between 0 and 1")
	}
	if t.Endpoint == "" {
		return
	}
	u, err := url.Parse(t.Endpoint)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		v.errorf(p+".otlp_endpoint", "must be an http(s) URL such as https://otel-collector:4318")
	case u.User != nil:
		v.errorf(p+".otlp_endpoint", "must not contain credentials")
	case u.Scheme == "http" && v.production() && !plugin.Loopback(u.Hostname()):
		v.warnf(p+".otlp_endpoint", "traces sent in clear text")
	}
}
