// Package policy is resetbot's own password policy, checked before the
// directory is asked to set a new password, so the user gets a precise,
// catalogued reason ("password.rejected.<reason>") instead of the directory's
// vague "constraint violation".
//
// The rules follow NIST SP 800-63B-4 and OWASP ASVS 6.2: a length range
// counted in Unicode code points (at least 15 by default: directory passwords
// are single-factor for every other service that binds with them), every
// printable character allowed (spaces and emoji included), no trimming, no
// composition rules, and refusal of passwords that contain the user's login
// or name, a banned word (case-insensitive, leetspeak undone), that are one
// of the most common passwords or a small variation of one (embedded list,
// always on), that are mostly repeated or sequential characters, that a
// zxcvbn estimate finds quick to guess, or that appear in a local
// breached-password file. Nothing is sent over the network. The directory's
// own policy (history, minimum age, complexity) still applies after this
// check.
//
// Generate makes passphrases for the voice channel, where a user cannot type a
// password (see generate.go).
package policy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

// Defaults and bounds of Options.
const (
	// DefaultMinLength is NIST 800-63B-4's minimum for a password that is
	// the only factor (3.1.1.2); 8 is allowed only with a second factor.
	DefaultMinLength = 15
	DefaultMaxLength = 256
	// LowestMinLength is the smallest MinLength accepted (NIST 800-63B).
	LowestMinLength = 8
	// LowestMaxLength is the smallest MaxLength accepted (ASVS 6.2.9: at least 64).
	LowestMaxLength = 64
)

// Options configure a Checker. The zero value gives the defaults with no
// word lists and no breached file.
type Options struct {
	// MinLength is the fewest code points allowed (default 15, at least 8).
	// NIST 800-63B-4 asks for 15 when the password is the only factor, which
	// a directory password is for every service that binds with it; 8 is
	// its floor when every use of the password is paired with another factor.
	MinLength int
	// MaxLength is the most code points allowed (default 256, at least 64).
	MaxLength int
	// BannedWords may not appear in a password: company, product and place
	// names. Matching is case-insensitive, by substring, after undoing
	// leetspeak (0→o, 1→i/l, 3→e, 4→a, 5→s, 7→t, @→a, $→s). Each word must be
	// at least MinFragmentLength code points.
	BannedWords []string
	// BannedFile is a file of more banned words, one per line; blank lines and
	// lines starting with # are skipped, as are words shorter than
	// MinFragmentLength. It is a list of words matched as substrings, not a
	// password dump: put dumps in BreachedFile.
	BannedFile string
	// BreachedFile is a sorted HIBP-format file of SHA-1 hashes (see Breached).
	BreachedFile string
	// CheckRepetition refuses passwords that are mostly repeated, sequential
	// or keyboard-walk characters (see Checker.Check).
	CheckRepetition bool
	// MinStrength is the lowest zxcvbn score (1–4) accepted; 0 means
	// DefaultMinStrength and NoStrengthCheck turns the estimate off.
	MinStrength int
}

// Checker checks new passwords against the policy. It is safe for concurrent
// use. Close it to release the breached-password file.
type Checker struct {
	min, max    int
	banned      *wordSet
	bannedRaw   []string // as written, for the strength estimate
	breached    *Breached
	repeat      bool
	minStrength int // 0: no estimate
}

// New validates opts, loads the word lists and opens the breached file.
func New(opts Options) (*Checker, error) {
	c := &Checker{min: opts.MinLength, max: opts.MaxLength, banned: newWordSet(), repeat: opts.CheckRepetition}
	if c.min == 0 {
		c.min = DefaultMinLength
	}
	if c.max == 0 {
		c.max = DefaultMaxLength
	}
	switch opts.MinStrength {
	case 0:
		c.minStrength = DefaultMinStrength
	case NoStrengthCheck:
	default:
		c.minStrength = opts.MinStrength
	}
	var errs []error
	if c.minStrength < 0 || c.minStrength > 4 {
		errs = append(errs, fmt.Errorf("policy: min strength %d is not a zxcvbn score from 1 to 4", opts.MinStrength))
	}
	if c.min < LowestMinLength {
		errs = append(errs, fmt.Errorf("policy: min length %d is below %d", c.min, LowestMinLength))
	}
	if c.max < LowestMaxLength {
		errs = append(errs, fmt.Errorf("policy: max length %d is below %d", c.max, LowestMaxLength))
	}
	if c.max < c.min {
		errs = append(errs, fmt.Errorf("policy: max length %d is below min length %d", c.max, c.min))
	}
	for i, w := range opts.BannedWords {
		if !c.banned.add(strings.TrimSpace(w)) {
			errs = append(errs, fmt.Errorf("policy: banned word %d is shorter than %d characters", i+1, MinFragmentLength))
		}
		c.bannedRaw = append(c.bannedRaw, strings.TrimSpace(w))
	}
	if opts.BannedFile != "" {
		if err := c.loadBanned(opts.BannedFile); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && opts.BreachedFile != "" {
		b, err := OpenBreached(opts.BreachedFile)
		if err != nil {
			errs = append(errs, err)
		}
		c.breached = b
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Checker) loadBanned(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("policy: open banned-words file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.TrimSpace(sc.Text())
		if w == "" || strings.HasPrefix(w, "#") {
			continue
		}
		c.banned.add(w)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("policy: read banned-words file %s: %w", path, err)
	}
	return nil
}

// Close releases the breached-password file, if any.
func (c *Checker) Close() error {
	if c.breached == nil {
		return nil
	}
	return c.breached.Close()
}

// MinLength returns the effective minimum length in code points.
func (c *Checker) MinLength() int { return c.min }

// MaxLength returns the effective maximum length in code points.
func (c *Checker) MaxLength() int { return c.max }

// MinStrength returns the lowest zxcvbn score accepted (0: no estimate).
func (c *Checker) MinStrength() int { return c.minStrength }

// Check returns nil when pw is acceptable for u, or the first rule it breaks,
// in this order: invalid_characters, too_long, too_short, contains_login,
// contains_name, banned_word, common, repetitive, weak, breached. pw is used
// exactly as received: no trimming, no normalisation, length in code points.
//
// The common rule refuses the embedded list's passwords, also with digits,
// symbols or spaces added before or after ("Password123!"), compared
// case-insensitively with leetspeak undone. The weak rule refuses a zxcvbn
// score below MinStrength, with the user's login, names and the banned words
// counted as the likeliest guesses.
//
// Identity fragments are the login (and its part after DOMAIN\ or before @),
// the email local part, the given name and the surname (and the words of
// multi-word names, when at least 4 long); fragments shorter than
// MinFragmentLength are ignored. Fragments and banned words are matched
// case-insensitively after undoing leetspeak.
//
// The repetitive rule (with CheckRepetition) counts a run of three or more
// repeated, sequential or keyboard-adjacent characters as one character, and
// a password made of one repeated unit as that unit; the password is refused
// when fewer than half of MinLength characters remain.
//
// err is non-nil only when the breached file cannot be read or ctx ends; the
// caller must then refuse the password (fail closed). A refusal never holds
// the password or a part of it.
func (c *Checker) Check(ctx context.Context, pw secret.String, u directory.User) (*Refusal, error) {
	s := pw.Reveal()
	if !validRunes(s) {
		return refuse(ReasonInvalidCharacters), nil
	}
	n := utf8.RuneCountInString(s)
	if n > c.max {
		return refuse(ReasonTooLong, "max", strconv.Itoa(c.max)), nil
	}
	if n < c.min {
		return refuse(ReasonTooShort, "min", strconv.Itoa(c.min)), nil
	}
	np := normalise(s)
	for _, f := range userFragments(u) {
		if strings.Contains(np, f.text) {
			return refuse(f.reason, "field", f.field), nil
		}
	}
	if c.banned.contains(np) {
		return refuse(ReasonBannedWord), nil
	}
	if isCommon(s) {
		return refuse(ReasonCommon), nil
	}
	if c.repeat && effectiveLength(s) < max(4, (c.min+1)/2) {
		return refuse(ReasonRepetitive), nil
	}
	if c.minStrength > 0 && strength(s, c.guessInputs(u)) < c.minStrength {
		return refuse(ReasonWeak), nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.breached != nil {
		found, err := c.breached.Contains(ctx, pw)
		if err != nil {
			return nil, fmt.Errorf("policy: breached-password lookup: %w", err)
		}
		if found {
			return refuse(ReasonBreached), nil
		}
	}
	return nil, nil
}

// guessInputs are the words an attacker who knows u tries first.
func (c *Checker) guessInputs(u directory.User) []string {
	in := append([]string{u.Login, u.GivenName, u.Surname}, c.bannedRaw...)
	if i := strings.IndexByte(u.Email, '@'); i > 0 {
		in = append(in, u.Email[:i])
	}
	return in
}
