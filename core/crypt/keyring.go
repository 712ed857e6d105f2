// Package crypt encrypts small records at rest (TOTP seeds, security-answer
// hashes) with AES-256-GCM under a keyring of named keys.
//
// Every ciphertext names the key that sealed it, so keys can be rotated: a new
// primary key seals new records while the old keys, kept in the ring, still open
// existing ones. Callers pass associated data (AAD) that binds a ciphertext to its
// owner, typically the user key: a ciphertext copied onto another user's record
// then fails to open instead of silently granting that user the other's secret.
package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"
)

// KeySize is the length of every key in bytes (AES-256).
const KeySize = 32

// format is the first byte of every ciphertext, so the layout can change later.
const format byte = 1

// Errors returned by Keyring.
var (
	// ErrDecrypt means a ciphertext could not be opened: it was tampered with,
	// truncated, sealed with other associated data, or sealed with a key that
	// is not in the ring. The cause is deliberately not distinguished further.
	ErrDecrypt = errors.New("crypt: cannot decrypt")
	// ErrUnknownKey means a ciphertext names a key id the ring does not hold.
	// It is wrapped together with ErrDecrypt.
	ErrUnknownKey = errors.New("crypt: unknown key id")
	// ErrBadKey means a key or key id given to NewKeyring or ParseKeys is invalid.
	ErrBadKey = errors.New("crypt: invalid key")
)

// Keyring seals and opens records with AES-256-GCM. It is safe for concurrent use.
//
// Ciphertext layout: format(1) | len(id)(1) | id | nonce(12) | sealed data + tag(16).
// The header (format, id) is authenticated together with the caller's AAD.
type Keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
	rand    io.Reader
}

// NewKeyring builds a keyring from keys (id → 32-byte key) with primaryID sealing
// new records. Key ids are 1–64 characters of [A-Za-z0-9._-]. The key bytes are
// copied into the ciphers; the caller may wipe its map afterwards.
func NewKeyring(primaryID string, keys map[string][]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrBadKey)
	}
	kr := &Keyring{primary: primaryID, aeads: make(map[string]cipher.AEAD, len(keys)), rand: rand.Reader}
	for id, key := range keys {
		if err := validID(id); err != nil {
			return nil, err
		}
		if len(key) != KeySize {
			// Never print the key itself, only its shape.
			return nil, fmt.Errorf("%w: key %q has %d bytes, want %d", ErrBadKey, id, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %w", ErrBadKey, id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %w", ErrBadKey, id, err)
		}
		kr.aeads[id] = aead
	}
	if _, ok := kr.aeads[primaryID]; !ok {
		return nil, fmt.Errorf("%w: primary key %q is not in the ring", ErrBadKey, primaryID)
	}
	return kr, nil
}

// validID accepts ids that survive the "id:key,id:key" config syntax and logs.
func validID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("%w: key id must be 1-64 characters", ErrBadKey)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("%w: key id %q: only letters, digits, '.', '_' and '-' are allowed", ErrBadKey, id)
		}
	}
	return nil
}

// PrimaryID returns the id of the key that seals new records.
func (k *Keyring) PrimaryID() string { return k.primary }

// IDs returns the ids of all keys in the ring, sorted.
func (k *Keyring) IDs() []string {
	ids := make([]string, 0, len(k.aeads))
	for id := range k.aeads {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Seal encrypts plaintext under the primary key, bound to aad. The output carries
// the key id and a fresh random nonce.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	aead := k.aeads[k.primary]
	header := make([]byte, 0, 2+len(k.primary)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	header = append(header, format, byte(len(k.primary)))
	header = append(header, k.primary...)
	hlen := len(header)
	nonce := make([]byte, aead.NonceSize())
	// Random 96-bit nonces: records are few (one per user and factor), far below
	// the 2^32 messages per key where random nonces become a concern.
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return nil, fmt.Errorf("crypt: reading nonce: %w", err)
	}
	out := append(header, nonce...)
	return aead.Seal(out, nonce, plaintext, joinAAD(out[:hlen], aad)), nil
}

// Open decrypts a ciphertext produced by Seal with any key in the ring. It fails
// with ErrDecrypt if the ciphertext was altered or aad differs from the one used
// to seal it.
func (k *Keyring) Open(ciphertext, aad []byte) ([]byte, error) {
	id, rest, err := splitHeader(ciphertext)
	if err != nil {
		return nil, err
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w: %w %q", ErrDecrypt, ErrUnknownKey, id)
	}
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: truncated", ErrDecrypt)
	}
	hlen := len(ciphertext) - len(rest)
	nonce, sealed := rest[:aead.NonceSize()], rest[aead.NonceSize():]
	pt, err := aead.Open(nil, nonce, sealed, joinAAD(ciphertext[:hlen], aad))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// KeyID returns the id of the key that sealed ciphertext, without decrypting it.
// Callers use it to re-seal records under the primary key after a rotation.
func (k *Keyring) KeyID(ciphertext []byte) (string, error) {
	id, _, err := splitHeader(ciphertext)
	return id, err
}

// NeedsRotation reports whether ciphertext was sealed by a key other than the primary.
func (k *Keyring) NeedsRotation(ciphertext []byte) bool {
	id, err := k.KeyID(ciphertext)
	return err == nil && id != k.primary
}

func splitHeader(ct []byte) (id string, rest []byte, err error) {
	if len(ct) < 2 || ct[0] != format {
		return "", nil, fmt.Errorf("%w: unknown format", ErrDecrypt)
	}
	n := int(ct[1])
	if n == 0 || len(ct) < 2+n {
		return "", nil, fmt.Errorf("%w: truncated", ErrDecrypt)
	}
	return string(ct[2 : 2+n]), ct[2+n:], nil
}

// joinAAD authenticates the header with the caller's AAD. The header is
// self-delimiting (its id is length-prefixed), so the concatenation is unambiguous.
func joinAAD(header, aad []byte) []byte {
	out := make([]byte, 0, len(header)+len(aad))
	return append(append(out, header...), aad...)
}
