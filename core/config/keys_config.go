package config

import (
	"encoding/base64"
	"fmt"
	"io"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/secret"
)

// KeySize is the length of every encryption key in bytes (AES-256).
const KeySize = crypt.KeySize

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

// ParseEncryption parses Encryption (see crypt.ParseKeys) and resolves
// Primary. The map is id → key. Errors name key ids or positions, never key
// material.
func (k KeysConfig) ParseEncryption() (primary string, keys map[string][]byte, err error) {
	first, keys, err := crypt.ParseKeys(k.Encryption.Reveal())
	if err != nil {
		return "", nil, err
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
