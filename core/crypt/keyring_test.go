package crypt_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/crypt"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, crypt.KeySize) }

func mustRing(t *testing.T, primary string, keys map[string][]byte) *crypt.Keyring {
	t.Helper()
	kr, err := crypt.NewKeyring(primary, keys)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

func TestSealOpenRoundTrip(t *testing.T) {
	kr := mustRing(t, "k1", map[string][]byte{"k1": key(1)})
	pt := []byte("JBSWY3DPEHPK3PXP")
	ct, err := kr.Seal(pt, []byte("ldap:alice"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, pt) {
		t.Fatal("ciphertext contains the plaintext")
	}
	got, err := kr.Open(ct, []byte("ldap:alice"))
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	ct2, _ := kr.Seal(pt, []byte("ldap:alice"))
	if bytes.Equal(ct, ct2) {
		t.Fatal("two seals of the same plaintext are identical: nonce reused")
	}
}

func TestRotation(t *testing.T) {
	old := mustRing(t, "k1", map[string][]byte{"k1": key(1)})
	ct, err := old.Seal([]byte("seed"), []byte("u"))
	if err != nil {
		t.Fatal(err)
	}
	rotated := mustRing(t, "k2", map[string][]byte{"k1": key(1), "k2": key(2)})
	got, err := rotated.Open(ct, []byte("u"))
	if err != nil || string(got) != "seed" {
		t.Fatalf("old key id no longer opens: %q, %v", got, err)
	}
	if !rotated.NeedsRotation(ct) {
		t.Error("NeedsRotation = false for a k1 record in a k2 ring")
	}
	resealed, err := rotated.Seal(got, []byte("u"))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := rotated.KeyID(resealed); id != "k2" {
		t.Errorf("re-sealed under %q, want k2", id)
	}
	if rotated.NeedsRotation(resealed) {
		t.Error("NeedsRotation = true after re-seal")
	}
	// Once k1 is retired, its records no longer open.
	retired := mustRing(t, "k2", map[string][]byte{"k2": key(2)})
	if _, err := retired.Open(ct, []byte("u")); !errors.Is(err, crypt.ErrUnknownKey) || !errors.Is(err, crypt.ErrDecrypt) {
		t.Errorf("retired key: err = %v, want ErrUnknownKey and ErrDecrypt", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	kr := mustRing(t, "k1", map[string][]byte{"k1": key(1), "k2": key(2)})
	alice, _ := kr.Seal([]byte("alice-seed"), []byte("ldap:alice"))
	tests := []struct {
		name string
		ct   []byte
		aad  string
	}{
		{"swapped user aad", alice, "ldap:bob"},
		{"empty aad", alice, ""},
		{"truncated", alice[:len(alice)-1], "ldap:alice"},
		{"header only", alice[:5], "ldap:alice"},
		{"empty", nil, "ldap:alice"},
		{"key id switched", switchID(alice), "ldap:alice"},
	}
	for i := range alice {
		c := bytes.Clone(alice)
		c[i] ^= 0x01
		tests = append(tests, struct {
			name string
			ct   []byte
			aad  string
		}{fmt.Sprintf("flip byte %d", i), c, "ldap:alice"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kr.Open(tt.ct, []byte(tt.aad))
			if err == nil {
				t.Fatalf("Open succeeded: %q", got)
			}
			if !errors.Is(err, crypt.ErrDecrypt) {
				t.Errorf("err = %v, want ErrDecrypt", err)
			}
			if strings.Contains(err.Error(), "alice-seed") {
				t.Error("error leaks plaintext")
			}
		})
	}
}

// switchID rewrites the key id k1 → k2 in the header.
func switchID(ct []byte) []byte {
	c := bytes.Clone(ct)
	c[3] = '2'
	return c
}

func TestNewKeyringRejects(t *testing.T) {
	tests := []struct {
		name    string
		primary string
		keys    map[string][]byte
	}{
		{"no keys", "k1", nil},
		{"short key", "k1", map[string][]byte{"k1": key(1)[:16]}},
		{"primary missing", "k9", map[string][]byte{"k1": key(1)}},
		{"bad id", "k:1", map[string][]byte{"k:1": key(1)}},
		{"empty id", "", map[string][]byte{"": key(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := crypt.NewKeyring(tt.primary, tt.keys); !errors.Is(err, crypt.ErrBadKey) {
				t.Errorf("err = %v, want ErrBadKey", err)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString(key(1))
	k2 := base64.RawURLEncoding.EncodeToString(key(0xfb))
	primary, keys, err := crypt.ParseKeys(" k2:" + k2 + " , k1:" + k1 + ",")
	if err != nil {
		t.Fatal(err)
	}
	if primary != "k2" || len(keys) != 2 || !bytes.Equal(keys["k1"], key(1)) || !bytes.Equal(keys["k2"], key(0xfb)) {
		t.Fatalf("ParseKeys = %q, %v", primary, keys)
	}
	kr, err := crypt.ParseKeyring("k2:" + k2 + ",k1:" + k1)
	if err != nil || kr.PrimaryID() != "k2" || strings.Join(kr.IDs(), ",") != "k1,k2" {
		t.Fatalf("ParseKeyring: %v", err)
	}

	short := base64.StdEncoding.EncodeToString(key(7)[:31])
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"no colon", "k1" + k1},
		{"bad base64", "k1:!!!!"},
		{"short key", "k1:" + short},
		{"duplicate", "k1:" + k1 + ",k1:" + k1},
		{"bad id", "k 1:" + k1},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := crypt.ParseKeys(tt.in)
			if !errors.Is(err, crypt.ErrBadKey) {
				t.Fatalf("err = %v, want ErrBadKey", err)
			}
			if strings.Contains(err.Error(), k1) || strings.Contains(err.Error(), short) {
				t.Error("error leaks key material")
			}
		})
	}
}

func BenchmarkSealOpen(b *testing.B) {
	kr, _ := crypt.NewKeyring("k1", map[string][]byte{"k1": key(1)})
	pt, aad := make([]byte, 20), []byte("ldap:alice")
	for b.Loop() {
		ct, _ := kr.Seal(pt, aad)
		if _, err := kr.Open(ct, aad); err != nil {
			b.Fatal(err)
		}
	}
}
