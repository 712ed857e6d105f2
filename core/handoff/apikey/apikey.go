// Package apikey authenticates the ITSM clients of the handoff API with
// static, scoped API keys.
//
// The configuration holds only each key's SHA-256 ("sha256:<hex>"), never the
// key, so a leaked configuration file or backup grants nothing. Keys are long
// random strings (Generate makes 256-bit ones), which is why an unsalted
// SHA-256 is enough here: there is nothing to brute-force. A presented key is
// hashed and compared with every configured hash in constant time.
//
// Guard is the HTTP side: it reads the key from "Authorization: Bearer" only
// (never from the query string, where it would end up in proxy and access
// logs), checks the route's scope and a per-key rate limit, and answers
// 401/403/429 with no detail, writing an audit event with the reason.
package apikey

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/handoff/webhook"
	"github.com/resetbot/resetbot/core/secret"
)

// Scope is a permission of a key.
type Scope string

// Scopes, as written in handoff.api_keys[].scopes.
const (
	// ScopeCreate allows POST /api/v1/handoffs.
	ScopeCreate Scope = "handoffs:create"
	// ScopeRead allows GET /api/v1/handoffs/{id} on the key's own handoffs.
	ScopeRead Scope = "handoffs:read"
	// ScopeLift allows POST /api/v1/lifts: lifting the bot's pauses on an
	// account. A scope of its own: a key that starts handoffs cannot undo
	// the throttling that protects accounts.
	ScopeLift Scope = "bans:lift"
)

// Known reports whether s is one of the scopes above.
func (s Scope) Known() bool { return s == ScopeCreate || s == ScopeRead || s == ScopeLift }

// RequesterPrefix starts the Handoff.Requester of handoffs made with a key.
const RequesterPrefix = "apikey:"

// Key is one configured API client.
type Key struct {
	// ID names the key in audit records and requesters.
	ID string
	// Hash is the SHA-256 of the key.
	Hash [32]byte
	// Scopes the key holds.
	Scopes []Scope
	// Webhook is the completion webhook; URL empty when none.
	Webhook webhook.Target
	// OUs are the organisational units whose accounts the key may hand
	// over; none means any account (demo configurations only).
	OUs []*ldap.DN
}

// InScope reports whether the account with DN dn is inside one of the key's
// OUs (case-insensitive, as LDAP compares DNs). A DN that does not parse is
// out of scope.
func (k Key) InScope(dn string) bool {
	if len(k.OUs) == 0 {
		return true
	}
	d, err := ldap.ParseDN(dn)
	if err != nil {
		return false
	}
	for _, ou := range k.OUs {
		if ou.AncestorOfFold(d) {
			return true
		}
	}
	return false
}

// Has reports whether k holds scope s.
func (k Key) Has(s Scope) bool {
	for _, x := range k.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

// Requester returns "apikey:<id>", the Handoff.Requester of k's handoffs.
func (k Key) Requester() string { return RequesterPrefix + k.ID }

// Set is the configured keys. It is immutable and safe for concurrent use.
type Set struct {
	keys []Key
}

// New returns a Set of keys.
func New(keys ...Key) *Set { return &Set{keys: append([]Key(nil), keys...)} }

// Setting is one configured API client as the configuration writes it
// (handoff.api_keys[i]); the composition root maps the configuration to it.
type Setting struct {
	ID string
	// Hash is "sha256:<64 hex>", never the key.
	Hash   string
	Scopes []string
	// OUs are DNs; none means any account.
	OUs           []string
	WebhookURL    string
	WebhookSecret secret.String
}

// Load builds the Set from the configured keys (validated by the
// configuration already; a malformed hash, scope or DN is still refused
// here, naming the key's index, so a key is never half understood).
func Load(settings []Setting) (*Set, error) {
	keys := make([]Key, 0, len(settings))
	for i, k := range settings {
		h, err := ParseHash(k.Hash)
		if err != nil {
			return nil, fmt.Errorf("apikey: api_keys[%d].hash: %w", i, err)
		}
		key := Key{ID: k.ID, Hash: h}
		for j, s := range k.Scopes {
			if !Scope(s).Known() {
				return nil, fmt.Errorf("apikey: api_keys[%d].scopes[%d]: unknown scope %q", i, j, s)
			}
			key.Scopes = append(key.Scopes, Scope(s))
		}
		for j, ou := range k.OUs {
			d, err := ldap.ParseDN(ou)
			if err != nil {
				return nil, fmt.Errorf("apikey: api_keys[%d].ous[%d]: %w", i, j, err)
			}
			key.OUs = append(key.OUs, d)
		}
		if k.WebhookURL != "" {
			key.Webhook = webhook.Target{Name: key.Requester(), URL: k.WebhookURL, Secret: k.WebhookSecret}
		}
		keys = append(keys, key)
	}
	return New(keys...), nil
}

// Hash returns the configuration form of key: "sha256:" and 64 hex digits.
func Hash(key secret.String) string {
	sum := sha256.Sum256([]byte(key.Reveal()))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ParseHash parses "sha256:<64 hex>".
func ParseHash(s string) ([32]byte, error) {
	var out [32]byte
	hx, ok := strings.CutPrefix(s, "sha256:")
	b, err := hex.DecodeString(hx)
	if !ok || err != nil || len(b) != 32 {
		return out, fmt.Errorf("not sha256:<64 hex digits>")
	}
	copy(out[:], b)
	return out, nil
}

// KeyPrefix starts every generated key, so secret scanners can spot a leaked one.
const KeyPrefix = "rbk_"

// Generate returns a new key: KeyPrefix and 32 random bytes, base64url.
func Generate(r io.Reader) (secret.String, error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return secret.String{}, fmt.Errorf("apikey: random: %w", err)
	}
	return secret.New(KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])), nil
}

// maxKeyLen bounds what is hashed; longer values are refused unread.
const maxKeyLen = 256

// Lookup returns the key whose hash matches presented. Every configured hash
// is compared, in constant time, whether or not one matched earlier.
func (s *Set) Lookup(presented secret.String) (Key, bool) {
	if presented.Empty() || presented.Len() > maxKeyLen {
		return Key{}, false
	}
	sum := sha256.Sum256([]byte(presented.Reveal()))
	found := -1
	for i := range s.keys {
		if subtle.ConstantTimeCompare(sum[:], s.keys[i].Hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Key{}, false
	}
	return s.keys[found], true
}

// Key returns the key named by requester ("apikey:<id>").
func (s *Set) Key(requester string) (Key, bool) {
	id, ok := strings.CutPrefix(requester, RequesterPrefix)
	if !ok {
		return Key{}, false
	}
	for _, k := range s.keys {
		if k.ID == id {
			return k, true
		}
	}
	return Key{}, false
}

// Target implements webhook.Targets: the completion webhook of the key named
// by requester ("apikey:<id>").
func (s *Set) Target(requester string) (webhook.Target, bool) {
	id, ok := strings.CutPrefix(requester, RequesterPrefix)
	if !ok {
		return webhook.Target{}, false
	}
	for _, k := range s.keys {
		if k.ID == id && k.Webhook.URL != "" {
			return k.Webhook, true
		}
	}
	return webhook.Target{}, false
}

var _ webhook.Targets = (*Set)(nil)
