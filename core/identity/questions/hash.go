package questions

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Argon2Params are the Argon2id cost parameters for hashing answers.
type Argon2Params struct {
	// Time is the number of passes (default 3).
	Time uint32
	// MemoryKiB is the memory per hash in KiB (default 64 MiB, RFC 9106's
	// low-memory option).
	MemoryKiB uint32
	// Threads is the parallelism (default 2).
	Threads uint8
	// KeyLen is the hash length in bytes (default 32).
	KeyLen uint32
	// SaltLen is the per-answer salt length in bytes (default 16).
	SaltLen uint32
}

// DefaultArgon2 are the production parameters.
var DefaultArgon2 = Argon2Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 2, KeyLen: 32, SaltLen: 16}

// Upper bounds when reading a stored hash: the record is authenticated by the
// keyring, but a bound keeps a bad configuration from exhausting memory.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	maxKeyLen    = 128
)

func (p Argon2Params) withDefaults() Argon2Params {
	d := DefaultArgon2
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = d.MemoryKiB
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	return p
}

func (p Argon2Params) validate() error {
	switch {
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("argon2 memory %d KiB is outside [8*threads, %d]", p.MemoryKiB, maxMemoryKiB)
	case p.Time > maxTime:
		return fmt.Errorf("argon2 time %d is above %d", p.Time, maxTime)
	case p.KeyLen < 16 || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2 key length %d is outside 16-%d", p.KeyLen, maxKeyLen)
	case p.SaltLen < 16:
		return fmt.Errorf("argon2 salt length %d is below 16", p.SaltLen)
	}
	return nil
}

var b64 = base64.RawStdEncoding

// hash returns the PHC string of answer with a fresh salt:
// $argon2id$v=19$m=<KiB>,t=<time>,p=<threads>$<salt>$<hash> (unpadded base64).
func hash(answer []byte, p Argon2Params, rand io.Reader) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("questions: reading salt: %w", err)
	}
	key := argon2.IDKey(answer, salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadPHC = errors.New("questions: malformed argon2id hash in record")

// matches reports whether answer hashes to the PHC string, with the parameters
// stored in it (so changing the configured costs does not void old answers).
func matches(answer []byte, phc string) (bool, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errBadPHC
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadPHC
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, errBadPHC
	}
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || p == 0 || t == 0 || m > maxMemoryKiB || t > maxTime || len(want) > maxKeyLen || len(want) < 16 {
		return false, errBadPHC
	}
	got := argon2.IDKey(answer, salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// normalise makes equal answers compare equal however they are typed: Unicode
// NFKC (full-width letters, ligatures, composed accents), case folding (not just
// lower-casing: "STRASSE" and "straße" fold alike), then trimmed with inner
// whitespace collapsed to one space. Numeric answers (for the phone keypad)
// also drop spaces, dashes, dots and slashes ("12/05/1984" equals "12051984").
func normalise(answer string, numeric bool) string {
	s := norm.NFKC.String(answer)
	s = cases.Fold().String(s)
	s = norm.NFKC.String(s)
	s = strings.Join(strings.Fields(s), " ")
	if numeric {
		s = strings.Map(func(r rune) rune {
			switch r {
			case ' ', '-', '.', '/':
				return -1
			}
			return r
		}, s)
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
