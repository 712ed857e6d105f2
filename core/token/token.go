// Package token signs the small values that travel through a chat client and
// come back: button values, modal private metadata, card data. A token binds
// a purpose, the channel user, the flow state it was shown for and an expiry,
// so a stale, replayed, altered or borrowed click is refused before the
// engine sees it.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
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
	// macs are reusable *macState under key: a Slack menu signs one token
	// per button, and hmac.New allocates two hash states each time. A state
	// is owned by one call between Get and Put, so none is shared across
	// goroutines, and it leaves the signer only through the pool.
	macs sync.Pool
}

// macState is an HMAC under the signer's key and scratch space for feeding
// it a string without allocating a copy.
type macState struct {
	h   hash.Hash
	buf [128]byte
	sum [sha256.Size]byte
}

// sigLen is the length of a token's signature: 18 bytes of HMAC, base64url.
const sigLen = 24

// New returns a signer; the key must be at least 32 bytes.
func New(key []byte, now func() time.Time) (*Signer, error) {
	if len(key) < 32 {
		return nil, errors.New("token: key shorter than 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	s := &Signer{key: append([]byte(nil), key...), now: now}
	s.macs.New = func() any { return &macState{h: hmac.New(sha256.New, s.key)} }
	return s, nil
}

// Sign returns the token for c. Tokens are URL-safe and carry no secret: the
// signature proves origin, it does not hide the claims.
//
// The token is "base64url(Purpose|User|State|Value|expiry in base 36)" then
// "." and the base64url of the first 18 bytes of its HMAC. It is built in one
// allocation: the claims are joined on the stack (when short), encoded into
// the token's own buffer, and the signature appended there.
func (s *Signer) Sign(c Claims) string {
	var scratch [256]byte
	body := append(scratch[:0], c.Purpose...)
	body = append(append(body, '|'), c.User...)
	body = append(append(body, '|'), c.State...)
	body = append(append(body, '|'), c.Value...)
	body = strconv.AppendInt(append(body, '|'), c.Expires.Unix(), 36)
	n := base64.RawURLEncoding.EncodedLen(len(body))
	tok := make([]byte, n+1+sigLen)
	base64.RawURLEncoding.Encode(tok, body)
	tok[n] = '.'
	sig := s.mac(tok[:n], "")
	base64.RawURLEncoding.Encode(tok[n+1:], sig[:])
	// tok is not written again nor reachable elsewhere: the string may
	// share its bytes.
	return unsafe.String(&tok[0], len(tok))
}

// mac returns the first 18 bytes of the HMAC of b and then str, computed
// with a pooled state that is reset first and wiped of the input after.
func (s *Signer) mac(b []byte, str string) (sig [18]byte) {
	m := s.macs.Get().(*macState)
	m.h.Reset()
	_, _ = m.h.Write(b)
	for len(str) > 0 {
		k := copy(m.buf[:], str)
		_, _ = m.h.Write(m.buf[:k])
		str = str[k:]
	}
	copy(sig[:], m.h.Sum(m.sum[:0]))
	clear(m.buf[:])
	clear(m.sum[:])
	s.macs.Put(m)
	return sig
}

// Verify checks the signature and expiry and that the token was issued for
// purpose and user; it returns the claims.
func (s *Signer) Verify(tok, purpose, user string) (Claims, error) {
	enc, sig, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 2048 {
		return Claims{}, ErrMalformed
	}
	mac := s.mac(nil, enc)
	var want [sigLen]byte
	base64.RawURLEncoding.Encode(want[:], mac[:])
	if len(sig) != sigLen || subtle.ConstantTimeCompare([]byte(sig), want[:]) != 1 {
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
