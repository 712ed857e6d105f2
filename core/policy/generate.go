package policy

import (
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

//go:embed words.txt
var wordFile string

// wordList is the embedded passphrase word list: plain common English words
// of 3–8 lower-case letters, written for resetbot.
var wordList = parseWords(wordFile)

func parseWords(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// Passphrase shape.
const (
	// MinWords is the fewest words Generate accepts.
	MinWords = 3
	// MaxWords is the most words Generate accepts.
	MaxWords = 12
	// GeneratedMinLength is the shortest passphrase Generate returns, in
	// characters: the NIST 800-63B-4 minimum for a single-factor password.
	// Words are added until it is reached.
	GeneratedMinLength = 15
)

// WordCount returns the size of the embedded word list.
func WordCount() int { return len(wordList) }

// PassphraseEntropy returns the entropy in bits of a passphrase of the given
// number of words: words × log2(WordCount()) for the words plus log2(100) for
// the two-digit number. With the embedded list (≈1650 words, 10.7 bits a
// word) four words give about 49 bits and five about 60 bits. Words added to
// reach GeneratedMinLength only add to this.
func PassphraseEntropy(words int) float64 {
	return float64(words)*math.Log2(float64(len(wordList))) + math.Log2(100)
}

// Generate returns a passphrase of at least words words drawn uniformly from
// the embedded list, joined with "-", ending with a two-digit number
// ("maple-otter-lamp-river-07"), at least GeneratedMinLength long. r is the
// random source (nil means crypto/rand); an error means r failed. Use
// Checker.GenerateFor to get one that also passes the policy for a user.
func Generate(r io.Reader, words int) (secret.String, error) {
	return generate(r, words, GeneratedMinLength)
}

func generate(r io.Reader, words, minLen int) (secret.String, error) {
	if words < MinWords || words > MaxWords {
		return secret.String{}, fmt.Errorf("policy: passphrase needs %d to %d words, not %d", MinWords, MaxWords, words)
	}
	if r == nil {
		r = rand.Reader
	}
	parts := make([]string, 0, words+4)
	length := 3 // "-NN"
	for len(parts) < words || length < minLen {
		i, err := uniform(r, len(wordList))
		if err != nil {
			return secret.String{}, err
		}
		parts = append(parts, wordList[i])
		length += utf8.RuneCountInString(wordList[i]) + 1
		if len(parts) > MaxWords+8 {
			return secret.String{}, errors.New("policy: passphrase cannot reach the minimum length")
		}
	}
	num, err := uniform(r, 100)
	if err != nil {
		return secret.String{}, err
	}
	return secret.New(strings.Join(parts, "-") + fmt.Sprintf("-%02d", num)), nil
}

// uniform returns an unbiased integer in [0, n), n ≤ 65536, by rejection
// sampling 16-bit values.
func uniform(r io.Reader, n int) (int, error) {
	limit := 65536 - 65536%n
	var b [2]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, fmt.Errorf("policy: random source: %w", err)
		}
		v := int(b[0])<<8 | int(b[1])
		if v < limit {
			return v % n, nil
		}
	}
}

// generateAttempts bounds GenerateFor's retries; a passphrase is refused only
// when it happens to contain the user's name or a banned word.
const generateAttempts = 32

// GenerateFor returns a passphrase (see Generate) that passes Check for u and
// is at least MinLength long. Candidates that fail the policy (a word that
// contains the user's name or a banned word) are discarded and drawn again,
// which removes a negligible amount of entropy.
func (c *Checker) GenerateFor(ctx context.Context, r io.Reader, words int, u directory.User) (secret.String, error) {
	if r == nil {
		r = rand.Reader
	}
	for range generateAttempts {
		pw, err := generate(r, words, max(GeneratedMinLength, c.min))
		if err != nil {
			return secret.String{}, err
		}
		ref, err := c.Check(ctx, pw, u)
		if err != nil {
			return secret.String{}, err
		}
		if ref == nil {
			return pw, nil
		}
	}
	return secret.String{}, errors.New("policy: no generated passphrase passed the policy; check the banned words")
}
