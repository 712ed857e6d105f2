// Package secret holds values that must never be printed: new passwords, one-time
// codes, security answers, TOTP seeds, tokens and keys.
//
// A String prints "REDACTED" through fmt, slog and encoding/json, so a secret that
// slips into a log line, an audit record or an error is harmless. The only way to
// read it is Reveal, which makes every use easy to find in review.
package secret

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// Redacted is what a secret prints instead of its value.
const Redacted = "REDACTED"

// String is a secret text value. The zero value is the empty secret.
type String struct {
	v string
}

// New wraps s as a secret.
func New(s string) String { return String{v: s} }

// Reveal returns the secret text. Call it only where the value is handed to the
// system that needs it (a directory write, a hash, an SMS body).
func (s String) Reveal() string { return s.v }

// Empty reports whether the secret is the empty string.
func (s String) Empty() bool { return s.v == "" }

// Len returns the length in bytes, which is safe to log as the shape of an input.
func (s String) Len() int { return len(s.v) }

// Equal compares two secrets in constant time.
func (s String) Equal(o String) bool {
	return subtle.ConstantTimeCompare([]byte(s.v), []byte(o.v)) == 1
}

// String implements fmt.Stringer and never returns the value.
func (s String) String() string { return Redacted }

// GoString implements fmt.GoStringer so %#v cannot reveal the value either.
func (s String) GoString() string { return "secret.String{" + Redacted + "}" }

// Format implements fmt.Formatter: every verb prints Redacted.
func (s String) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue implements slog.LogValuer.
func (s String) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON implements json.Marshaler.
func (s String) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler (used by YAML and others).
func (s String) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// UnmarshalText implements encoding.TextUnmarshaler so configuration files can
// carry secrets (better: env or _FILE overrides, see core/config).
func (s *String) UnmarshalText(b []byte) error { s.v = string(b); return nil }
