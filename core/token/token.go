// Package token signs the small values that travel through a chat client and
// come back: button values, modal private metadata, card data. A token binds
// a purpose, the channel user, the flow state it was shown for and an expiry,
// so a stale, replayed, altered or borrowed click is refused before the
// engine sees it.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors returned by Verify.
var (
	ErrMalformed = errors.New("token: malformed")
	ErrSignature = errors.New("token: bad signature")
	ErrExpired   = errors.New("token: expired")
	ErrMismatch  = errors.New("token: issued for another purpose or user")
)

// Claims are what a token says. Fields must not contain '|'.
type Claims struct {
	// Purpose names what the token is for ("slack.choice", "teams.card").
	Purpose string
	// User is the channel user the token was shown to.
	User string
	// State is the flow state the button or form was rendered for.
	State string
	// Value is the payload (a choice ID).
	Value   string
	Expires time.Time
}

// Signer signs and verifies tokens with an HMAC-SHA256 key.
type Signer struct {
	key []byte
	now func() time.Time
	// macs are reusable HMAC states under key: a Slack menu signs one token
	// per button, and hmac.New allocates two hash states each time.
	macs sync.Pool
}

// New returns a signer; the key must be at least 32 bytes.
func New(key []byte, now func() time.Time) (*Signer, error) {
	if len(key) < 32 {
		return nil, errors.New("token: key shorter than 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	s := &Signer{key: append([]byte(nil), key...), now: now}
	s.macs.New = func() any { return hmac.New(sha256.New, s.key) }
	return s, nil
}

// Sign returns the token for c. Tokens are URL-safe and carry no secret: the
// signature proves origin, it does not hide the claims.
func (s *Signer) Sign(c Claims) string {
	body := strings.Join([]string{c.Purpose, c.User, c.State, c.Value, strconv.FormatInt(c.Expires.Unix(), 36)}, "|")
	enc := base64.RawURLEncoding.EncodeToString([]byte(body))
	return enc + "." + s.mac(enc)
}

func (s *Signer) mac(enc string) string {
	m := s.macs.Get().(hash.Hash)
	m.Reset()
	_, _ = m.Write([]byte(enc))
	var sum [sha256.Size]byte
	out := base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0])[:18])
	s.macs.Put(m)
	return out
}

// Verify checks the signature and expiry and that the token was issued for
// purpose and user; it returns the claims.
func (s *Signer) Verify(tok, purpose, user string) (Claims, error) {
	enc, sig, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 2048 {
		return Claims{}, ErrMalformed
	}
	if !hmac.Equal([]byte(sig), []byte(s.mac(enc))) {
		return Claims{}, ErrSignature
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 5 {
		return Claims{}, ErrMalformed
	}
	exp, err := strconv.ParseInt(parts[4], 36, 64)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	c := Claims{Purpose: parts[0], User: parts[1], State: parts[2], Value: parts[3], Expires: time.Unix(exp, 0)}
	if !s.now().Before(c.Expires) {
		return c, ErrExpired
	}
	if c.Purpose != purpose || c.User != user {
		return c, ErrMismatch
	}
	return c, nil
}
