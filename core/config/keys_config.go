package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/resetbot/resetbot/core/secret"
)

// KeySize is the length of every encryption key in bytes (AES-256).
const KeySize = 32

// MinHMACKeyBytes is the shortest accepted HMAC key.
const MinHMACKeyBytes = 32

// KeysConfig holds the server keys. Required in production. In demo mode,
// missing keys are generated at startup (Config.KeysGenerated is then true), so
// anything they protect does not survive a restart.
type KeysConfig struct {
	// Encryption is "k1:<base64 32 bytes>[,k0:<base64 32 bytes>...]": named
	// AES-256 keys that encrypt TOTP seeds and answer hashes at rest. Older
	// keys stay listed after a rotation so existing records still open.
	Encryption secret.String `yaml:"encryption"`
	// Primary names the key that seals new records. Default: the first key.
	Primary string `yaml:"primary"`
	// HMAC keys the hashes of one-time codes and signed button tokens
	// (at least 32 bytes).
	HMAC secret.String `yaml:"hmac"`
}

// errNoKeys is returned by ParseEncryption for an empty key list.
var errNoKeys = errors.New("no keys")

// ParseEncryption parses Encryption and resolves Primary. The map is id → key.
// Errors name key ids or positions, never key material.
func (k KeysConfig) ParseEncryption() (primary string, keys map[string][]byte, err error) {
	keys = make(map[string][]byte)
	first := ""
	for i, entry := range strings.Split(k.Encryption.Reveal(), ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, enc, ok := strings.Cut(entry, ":")
		id, enc = strings.TrimSpace(id), strings.TrimSpace(enc)
		if !ok || id == "" {
			return "", nil, fmt.Errorf("entry %d: want id:base64key", i+1)
		}
		if _, dup := keys[id]; dup {
			return "", nil, fmt.Errorf("key id %q appears twice", id)
		}
		key, err := decodeBase64(enc)
		if err != nil {
			return "", nil, fmt.Errorf("key %q is not valid base64", id)
		}
		if len(key) != KeySize {
			return "", nil, fmt.Errorf("key %q has %d bytes, want %d", id, len(key), KeySize)
		}
		if first == "" {
			first = id
		}
		keys[id] = key
	}
	if first == "" {
		return "", nil, errNoKeys
	}
	primary = k.Primary
	if primary == "" {
		primary = first
	}
	if _, ok := keys[primary]; !ok {
		return "", nil, fmt.Errorf("primary key %q is not in the encryption list", primary)
	}
	return primary, keys, nil
}

func decodeBase64(s string) ([]byte, error) {
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

// generateKeys fills empty keys with fresh random ones (demo mode only).
func generateKeys(k *KeysConfig, rnd io.Reader) (bool, error) {
	generated := false
	if k.Encryption.Empty() {
		b := make([]byte, KeySize)
		if _, err := io.ReadFull(rnd, b); err != nil {
			return false, fmt.Errorf("generate encryption key: %w", err)
		}
		k.Encryption = secret.New("demo:" + base64.StdEncoding.EncodeToString(b))
		k.Primary = "demo"
		generated = true
	}
	if k.HMAC.Empty() {
		b := make([]byte, MinHMACKeyBytes)
		if _, err := io.ReadFull(rnd, b); err != nil {
			return false, fmt.Errorf("generate hmac key: %w", err)
		}
		k.HMAC = secret.New(base64.StdEncoding.EncodeToString(b))
		generated = true
	}
	return generated, nil
}

func (v *validator) keys(k *KeysConfig) {
	const p = "keys"
	if k.Encryption.Empty() {
		v.errorf(p+".encryption", "is required in production (k1:<base64 of 32 random bytes>)")
	} else if _, _, err := k.ParseEncryption(); err != nil {
		v.errorf(p+".encryption", "%v", err)
	}
	if k.HMAC.Empty() {
		v.errorf(p+".hmac", "is required in production (at least %d random bytes)", MinHMACKeyBytes)
	} else if k.HMAC.Len() < MinHMACKeyBytes {
		v.errorf(p+".hmac", "must be at least %d bytes long", MinHMACKeyBytes)
	}
}
