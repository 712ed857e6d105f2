package crypt

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// ParseKeys reads a key list from configuration in the form
// "k2:<base64 key>,k1:<base64 key>". The first entry is the primary key (the
// one that seals new records); later entries are kept only to open records
// sealed before a rotation. Keys are standard or URL-safe base64, padded or
// not, and must decode to 32 bytes. Whitespace around entries is ignored.
// Errors name the offending key id or position, never key material.
func ParseKeys(s string) (primaryID string, keys map[string][]byte, err error) {
	keys = make(map[string][]byte)
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, enc, ok := strings.Cut(entry, ":")
		if !ok {
			return "", nil, fmt.Errorf("%w: entry %d: want id:base64key", ErrBadKey, i+1)
		}
		id, enc = strings.TrimSpace(id), strings.TrimSpace(enc)
		if err := validID(id); err != nil {
			return "", nil, err
		}
		if _, dup := keys[id]; dup {
			return "", nil, fmt.Errorf("%w: key id %q appears twice", ErrBadKey, id)
		}
		key, err := decodeKey(enc)
		if err != nil {
			return "", nil, fmt.Errorf("%w: key %q is not valid base64", ErrBadKey, id)
		}
		if len(key) != KeySize {
			return "", nil, fmt.Errorf("%w: key %q has %d bytes, want %d", ErrBadKey, id, len(key), KeySize)
		}
		if primaryID == "" {
			primaryID = id
		}
		keys[id] = key
	}
	if primaryID == "" {
		return "", nil, fmt.Errorf("%w: no keys", ErrBadKey)
	}
	return primaryID, keys, nil
}

// ParseKeyring is ParseKeys followed by NewKeyring.
func ParseKeyring(s string) (*Keyring, error) {
	primary, keys, err := ParseKeys(s)
	if err != nil {
		return nil, err
	}
	return NewKeyring(primary, keys)
}

func decodeKey(s string) ([]byte, error) {
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}
