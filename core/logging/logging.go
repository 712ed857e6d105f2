// Package logging builds resetbot's slog loggers.
//
// Every logger made here sits behind a redacting handler: an attribute whose key
// names a secret (password, code, token, ...) has its value replaced by
// "REDACTED" before any output handler sees it, at any depth of groups. This is
// the second line of defence; the first is that secrets are typed
// secret.String, which prints REDACTED by itself through fmt, slog and JSON.
//
// Neither line can see inside free text: a secret concatenated into a message
// or an error string as a plain string is not caught. Keep secrets typed.
package logging

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"strings"

	"github.com/resetbot/resetbot/core/secret"
)

// Output formats accepted by New.
const (
	// FormatJSON writes one JSON object per line (the production default).
	FormatJSON = "json"
	// FormatText writes logfmt-style key=value lines for humans.
	FormatText = "text"
)

// New returns a logger writing to w at the given level in format "json" or
// "text". Any other format, including "", means JSON, which is the safe choice
// for log shippers and keeps typed user input from forging lines.
func New(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var inner slog.Handler
	if strings.EqualFold(format, FormatText) {
		inner = slog.NewTextHandler(w, opts)
	} else {
		inner = slog.NewJSONHandler(w, opts)
	}
	return slog.New(NewHandler(inner))
}

// exactKeys are sensitive only as whole keys: "code" is a one-time code, but
// "status_code" or "ldap_code" are not secrets.
var exactKeys = map[string]bool{
	"password": true, "newpassword": true, "code": true, "otp": true,
	"answer": true, "secret": true, "token": true, "apikey": true,
	"authorization": true, "passphrase": true, "seed": true,
}

// suffixes make any key ending in them sensitive, so "bind_password",
// "client_secret", "access_token" and "X-Api-Key" are covered too.
var suffixes = []string{"password", "secret", "token", "apikey", "passphrase"}

// normalize lower-cases a key and drops separators so that "New-Password",
// "new_password" and "NewPassword" compare equal.
func normalize(key string) string {
	var b strings.Builder
	b.Grow(len(key))
	for _, r := range strings.ToLower(key) {
		switch r {
		case '_', '-', '.', ' ':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Sensitive reports whether an attribute key names a secret. The comparison
// ignores case and the separators '_', '-', '.' and ' '.
func Sensitive(key string) bool {
	k := normalize(key)
	if exactKeys[k] {
		return true
	}
	for _, s := range suffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// Handler wraps another slog.Handler and redacts sensitive attributes before
// passing records on. It is safe for concurrent use if the inner handler is.
type Handler struct {
	inner slog.Handler
	// redactAll is set inside a group whose own name is sensitive
	// (logger.WithGroup("token")): every attribute below it is redacted.
	redactAll bool
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler wraps inner with redaction.
func NewHandler(inner slog.Handler) *Handler { return &Handler{inner: inner} }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

// Handle implements slog.Handler. It builds a new record because the
// attributes of the original may not be modified in place.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(redact(a, h.redactAll))
		return true
	})
	return h.inner.Handle(ctx, nr)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = redact(a, h.redactAll)
	}
	return &Handler{inner: h.inner.WithAttrs(out), redactAll: h.redactAll}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{inner: h.inner.WithGroup(name), redactAll: h.redactAll || Sensitive(name)}
}

// redact returns a with its value replaced when the key is sensitive, walking
// groups and resolving LogValuers first so a valuer cannot smuggle a secret.
func redact(a slog.Attr, all bool) slog.Attr {
	a.Value = a.Value.Resolve()
	if all || Sensitive(a.Key) {
		return slog.String(a.Key, secret.Redacted)
	}
	switch a.Value.Kind() {
	case slog.KindGroup:
		group := a.Value.Group()
		out := make([]slog.Attr, len(group))
		for i, g := range group {
			out[i] = redact(g, false)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		if m, ok := redactMap(a.Value.Any()); ok {
			return slog.Any(a.Key, m)
		}
	}
	return a
}

// redactMap copies a map with string keys (http.Header, map[string]any,
// map[string]string...) with sensitive entries replaced. Other values are left
// alone: structs are covered by typing their secret fields as secret.String.
func redactMap(v any) (map[string]any, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		k := it.Key().String()
		if Sensitive(k) {
			out[k] = secret.Redacted
			continue
		}
		val := it.Value().Interface()
		if m, ok := redactMap(val); ok {
			out[k] = m
			continue
		}
		out[k] = val
	}
	return out, true
}
