package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/logging"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/secret"
)

const raw = "Hunter2-Sup3rSecret"

type form struct {
	User     string
	Password secret.String
	Code     secret.String `json:"code"`
}

type valuer struct{}

func (valuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", "alice"), slog.String("otp", raw))
}

func TestRedactsEverywhere(t *testing.T) {
	s := secret.New(raw)
	cases := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"plain key", func(l *slog.Logger) { l.Info("x", "password", raw) }},
		{"upper key", func(l *slog.Logger) { l.Info("x", "PASSWORD", raw) }},
		{"new_password", func(l *slog.Logger) { l.Info("x", "new_password", raw) }},
		{"camel NewPassword", func(l *slog.Logger) { l.Info("x", "NewPassword", raw) }},
		{"code", func(l *slog.Logger) { l.Info("x", "code", raw) }},
		{"otp", func(l *slog.Logger) { l.Info("x", "otp", raw) }},
		{"answer", func(l *slog.Logger) { l.Info("x", "Answer", raw) }},
		{"secret", func(l *slog.Logger) { l.Info("x", "secret", raw) }},
		{"token", func(l *slog.Logger) { l.Info("x", "token", raw) }},
		{"api_key", func(l *slog.Logger) { l.Info("x", "api_key", raw) }},
		{"X-Api-Key", func(l *slog.Logger) { l.Info("x", "X-Api-Key", raw) }},
		{"authorization", func(l *slog.Logger) { l.Info("x", "Authorization", "Bearer "+raw) }},
		{"passphrase", func(l *slog.Logger) { l.Info("x", "passphrase", raw) }},
		{"seed", func(l *slog.Logger) { l.Info("x", "seed", raw) }},
		{"suffix bind_password", func(l *slog.Logger) { l.Info("x", "bind_password", raw) }},
		{"suffix client_secret", func(l *slog.Logger) { l.Info("x", "client_secret", raw) }},
		{"typed secret any key", func(l *slog.Logger) { l.Info("x", "value", s) }},
		{"typed secret attr", func(l *slog.Logger) { l.Info("x", slog.Any("v", s)) }},
		{"group", func(l *slog.Logger) {
			l.Info("x", slog.Group("req", slog.String("user", "a"), slog.String("password", raw)))
		}},
		{"nested group", func(l *slog.Logger) {
			l.Info("x", slog.Group("a", slog.Group("b", slog.String("Token", raw))))
		}},
		{"sensitive group name", func(l *slog.Logger) {
			l.Info("x", slog.Group("secret", slog.String("value", raw)))
		}},
		{"WithGroup then key", func(l *slog.Logger) { l.WithGroup("req").Info("x", "code", raw) }},
		{"WithGroup sensitive", func(l *slog.Logger) { l.WithGroup("token").Info("x", "value", raw) }},
		{"With attrs", func(l *slog.Logger) { l.With("password", raw).Info("x") }},
		{"With group attrs", func(l *slog.Logger) { l.WithGroup("g").With("otp", raw).Info("x") }},
		{"LogValuer group", func(l *slog.Logger) { l.Info("x", "form", valuer{}) }},
		{"struct with secret fields", func(l *slog.Logger) { l.Info("x", "form", form{User: "a", Password: s, Code: s}) }},
		{"pointer struct", func(l *slog.Logger) { l.Info("x", "form", &form{Password: s}) }},
		{"fmt %v struct", func(l *slog.Logger) { l.Info(fmt.Sprintf("%v", form{Password: s})) }},
		{"fmt %+v struct", func(l *slog.Logger) { l.Info(fmt.Sprintf("%+v", form{Password: s})) }},
		{"fmt %#v struct", func(l *slog.Logger) { l.Info(fmt.Sprintf("%#v", form{Password: s})) }},
		{"wrapped error", func(l *slog.Logger) {
			err := fmt.Errorf("reset: %w", fmt.Errorf("set %v: %w", s, errors.New("ldap 53")))
			l.Error("x", "err", err)
		}},
		{"map any", func(l *slog.Logger) { l.Info("x", "m", map[string]any{"user": "a", "password": raw}) }},
		{"map nested", func(l *slog.Logger) {
			l.Info("x", "m", map[string]any{"inner": map[string]string{"code": raw}})
		}},
		{"http header", func(l *slog.Logger) {
			h := http.Header{}
			h.Set("Authorization", "Basic "+raw)
			l.Info("x", "headers", h)
		}},
	}
	for _, format := range []string{logging.FormatJSON, logging.FormatText} {
		for _, tc := range cases {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				var buf bytes.Buffer
				tc.log(logging.New(&buf, slog.LevelDebug, format))
				out := buf.String()
				if out == "" {
					t.Fatal("nothing logged")
				}
				if strings.Contains(out, raw) {
					t.Fatalf("secret leaked: %s", out)
				}
			})
		}
	}
}

func TestKeepsOrdinaryAttrs(t *testing.T) {
	l, buf := loggingtest.Capture(t)
	l.Info("hello", "user", "alice", "status_code", 53, slog.Group("g", slog.String("channel", "slack")))
	recs := buf.Records(t)
	if len(recs) != 1 {
		t.Fatalf("want 1 record, got %d", len(recs))
	}
	r := recs[0]
	if r["user"] != "alice" || r["status_code"] != float64(53) {
		t.Errorf("ordinary attrs changed: %v", r)
	}
	if g, _ := r["g"].(map[string]any); g["channel"] != "slack" {
		t.Errorf("group attr changed: %v", r)
	}
}

func TestRedactedValueIsMarked(t *testing.T) {
	l, buf := loggingtest.Capture(t)
	l.Info("x", "password", raw)
	r := buf.Records(t)[0]
	if r["password"] != secret.Redacted {
		t.Errorf("password = %v, want %q", r["password"], secret.Redacted)
	}
	buf.AssertNoSecrets(t, raw)
}

func TestSensitive(t *testing.T) {
	cases := map[string]bool{
		"password": true, "New_Password": true, "code": true, "OTP": true, "answer": true,
		"secret": true, "token": true, "api_key": true, "apiKey": true, "authorization": true,
		"passphrase": true, "seed": true, "access_token": true, "signing-secret": true,
		"status_code": false, "user": false, "channel": false, "codes_sent": false, "ref": false,
	}
	for k, want := range cases {
		t.Run(k, func(t *testing.T) {
			if got := logging.Sensitive(k); got != want {
				t.Errorf("Sensitive(%q) = %v, want %v", k, got, want)
			}
		})
	}
}

func TestLevelAndFormat(t *testing.T) {
	var buf bytes.Buffer
	l := logging.New(&buf, slog.LevelWarn, "")
	l.Info("hidden")
	l.Warn("shown", "k", "v")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want 1 line, got %q", buf.String())
	}
	if !json.Valid([]byte(lines[0])) {
		t.Errorf("default format is not JSON: %q", lines[0])
	}
	buf.Reset()
	logging.New(&buf, slog.LevelInfo, "text").Info("t", "k", "v")
	if !strings.Contains(buf.String(), "k=v") {
		t.Errorf("text format: %q", buf.String())
	}
}

func TestLogInjection(t *testing.T) {
	l, buf := loggingtest.Capture(t)
	l.Info("login", "user", "x\n{\"msg\":\"reset.ok\"}")
	if n := len(buf.Lines()); n != 1 {
		t.Fatalf("want 1 line, got %d: %q", n, buf.String())
	}
}

func BenchmarkRedactingHandler(b *testing.B) {
	l := logging.New(io.Discard, slog.LevelInfo, logging.FormatJSON)
	b.ReportAllocs()
	for b.Loop() {
		l.Info("verify", "user", "alice", "factor", "totp", "code", "123456",
			slog.Group("req", slog.String("channel", "slack"), slog.Int("try", 2)))
	}
}

func BenchmarkPlainJSONHandler(b *testing.B) {
	l := slog.New(slog.NewJSONHandler(io.Discard, nil))
	b.ReportAllocs()
	for b.Loop() {
		l.Info("verify", "user", "alice", "factor", "totp", "code", "123456",
			slog.Group("req", slog.String("channel", "slack"), slog.Int("try", 2)))
	}
}
