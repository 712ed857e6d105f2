package policy

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/resetbot/resetbot/core/directory"
)

func TestWordList(t *testing.T) {
	if WordCount() < 1024 {
		t.Fatalf("word list has %d words, want at least 1024 (10 bits a word)", WordCount())
	}
	seen := map[string]bool{}
	re := regexp.MustCompile(`^[a-z]{3,8}$`)
	for _, w := range wordList {
		if !re.MatchString(w) {
			t.Errorf("word %q: want 3-8 lower-case letters", w)
		}
		if seen[w] {
			t.Errorf("duplicate word %q", w)
		}
		seen[w] = true
	}
	if e := PassphraseEntropy(4); e < 46 {
		t.Fatalf("PassphraseEntropy(4) = %.1f bits, want ≥ 46", e)
	}
}

func TestGenerate(t *testing.T) {
	shape := regexp.MustCompile(`^[a-z]{3,8}(-[a-z]{3,8}){2,}-[0-9]{2}$`)
	rng := rand.NewChaCha8([32]byte{1})
	for range 2000 {
		pw, err := Generate(rng, 4)
		if err != nil {
			t.Fatal(err)
		}
		s := pw.Reveal()
		if !shape.MatchString(s) {
			t.Fatalf("passphrase shape: %q", s)
		}
		if n := utf8.RuneCountInString(s); n < GeneratedMinLength {
			t.Fatalf("passphrase %q has %d characters, want ≥ %d", s, n, GeneratedMinLength)
		}
		if strings.Count(s, "-") < 4 {
			t.Fatalf("passphrase %q has fewer than 4 words", s)
		}
	}
	// Same seed, same passphrase: the random source is the only input.
	a, _ := Generate(rand.NewChaCha8([32]byte{9}), 5)
	b, _ := Generate(rand.NewChaCha8([32]byte{9}), 5)
	if a.Reveal() != b.Reveal() {
		t.Fatal("Generate is not deterministic for a given reader")
	}
}

func TestGenerateErrors(t *testing.T) {
	for _, words := range []int{0, 2, MaxWords + 1} {
		if _, err := Generate(nil, words); err == nil {
			t.Errorf("Generate(%d words): want error", words)
		}
	}
	_, err := Generate(bytes.NewReader([]byte{1, 2, 3}), 4)
	if err == nil || !strings.Contains(err.Error(), "random source") {
		t.Fatalf("short reader: err = %v", err)
	}
	pw, err := Generate(nil, 4) // crypto/rand
	if err != nil || pw.Len() < GeneratedMinLength {
		t.Fatalf("Generate(nil) = %d chars, %v", pw.Len(), err)
	}
}

func TestUniform(t *testing.T) {
	// Values at or above the rejection limit are skipped, not folded.
	r := bytes.NewReader([]byte{0xff, 0xff, 0x00, 0x05})
	v, err := uniform(r, 1000)
	if err != nil || v != 5 {
		t.Fatalf("uniform = %d, %v; want 5 after one rejection", v, err)
	}
	counts := make([]int, 10)
	rng := rand.NewChaCha8([32]byte{3})
	for range 100_000 {
		v, _ := uniform(rng, 10)
		counts[v]++
	}
	for d, c := range counts {
		if c < 9500 || c > 10500 {
			t.Fatalf("digit %d drawn %d times in 100000", d, c)
		}
	}
}

// TestGenerateForPassesCheck: generated passphrases pass the full policy for
// the user, even when the user's name and banned words collide with the list.
func TestGenerateForPassesCheck(t *testing.T) {
	c := newChecker(t, Options{
		MinLength:       20,
		BannedWords:     []string{"maple", "river", "otter", "lake"},
		CheckRepetition: true,
	})
	u := directory.User{Login: "ash", GivenName: "Rose", Surname: "Hill", Email: "rose.hill@example.org"}
	rng := rand.NewChaCha8([32]byte{5})
	ctx := context.Background()
	for range 500 {
		pw, err := c.GenerateFor(ctx, rng, 4, u)
		if err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCountInString(pw.Reveal()); n < 20 {
			t.Fatalf("passphrase has %d characters, want ≥ 20", n)
		}
		ref, err := c.Check(ctx, pw, u)
		if err != nil || ref != nil {
			t.Fatalf("Check(generated) = %+v, %v", ref, err)
		}
	}
	// Plain Generate output passes a default checker for an ordinary user
	// (15 characters, the common list, the strength estimate), with the
	// fewest words allowed too.
	d := newChecker(t, Options{CheckRepetition: true})
	for i := range 1500 {
		pw, _ := Generate(rng, MinWords+i%2)
		if ref, err := d.Check(ctx, pw, alice); err != nil || ref != nil {
			t.Fatalf("Check(generated) = %+v, %v", ref, err)
		}
	}
}

func TestGenerateForGivesUp(t *testing.T) {
	// Ban every word of the list: nothing can pass.
	c := newChecker(t, Options{})
	banAll := newWordSet()
	for _, w := range wordList {
		banAll.add(w)
	}
	c.banned = banAll
	_, err := c.GenerateFor(context.Background(), rand.NewChaCha8([32]byte{}), 4, directory.User{})
	if err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("GenerateFor with every word banned: err = %v", err)
	}
}
