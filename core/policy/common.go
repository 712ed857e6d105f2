package policy

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	zxcvbn "github.com/ccojocar/zxcvbn-go"
	"github.com/ccojocar/zxcvbn-go/frequency"
)

// The common-password list and the strength estimate come from
// github.com/ccojocar/zxcvbn-go, a Go port of Dropbox's zxcvbn. Why this
// module:
//
//   - it is maintained (the fork gosec depends on; releases through 2025),
//     MIT-licensed, pure Go, with no network access and no cgo;
//   - it embeds zxcvbn's ranked list of the most common passwords (7,141
//     entries after zxcvbn's own filtering: "password", "123456", "dragon",
//     …), more than the "top 3,000" the security checklist asks for, plus
//     English words, names and surnames, keyboard layouts, dates and
//     sequences, which the strength estimate uses;
//   - no maintained Go module or Debian package ships a common-password list
//     alone (the Debian cracklib dictionaries are words, not passwords), and
//     the other Go zxcvbn ports (nbutton23, trustelem) have had no release
//     since 2019–2021.
//
// Costs, measured: the package decodes its lists at start-up (about 6.5 MB
// of heap), and an estimate takes about 0.3–5 ms for passwords up to 64
// characters, growing faster than linearly beyond: strengthPrefix bounds it.
// The full breached-password list stays the optional HIBP file (Breached).

// Strength bounds (zxcvbn scores: 0 guessed in under 10^2 s at its model's
// 10,000 guesses a second, 1 under 10^4 s, 2 under 10^6 s, 3 under 10^8 s,
// 4 more).
const (
	// DefaultMinStrength is the lowest accepted score unless configured:
	// 3 is about 34 bits by zxcvbn's model and what Dropbox recommends;
	// Generate's passphrases (three words or more) reach it.
	DefaultMinStrength = 3
	// NoStrengthCheck in Options.MinStrength turns the estimate off.
	NoStrengthCheck = -1
	// strengthPrefix is how many code points are estimated: the estimate of
	// a prefix is a lower bound of the whole, and longer inputs cost tens of
	// milliseconds each.
	strengthPrefix = 64
	// minCoreLength is the shortest core ("password" in "Password123!")
	// looked up in the common list; shorter ones ("abc", "qwe") would refuse
	// good passwords that merely start or end with them.
	minCoreLength = 4
)

// commonPasswords is the embedded list, normalised (see normalise), built
// on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	list := frequency.Lists["Passwords"].List
	set := make(map[string]struct{}, len(list))
	for _, p := range list {
		set[normalise(p)] = struct{}{}
	}
	return set
})

// CommonCount returns the number of entries in the embedded common-password list.
func CommonCount() int { return len(commonPasswords()) }

// isCommon reports whether s is a common password or one with digits,
// symbols or spaces added before or after it ("password1234",
// "Password123!", "!!dragon2024"), compared case-insensitively with
// leetspeak undone ("P@ssw0rd").
func isCommon(s string) bool {
	set := commonPasswords()
	if _, ok := set[normalise(s)]; ok {
		return true
	}
	// Trim digits and symbols, then again keeping '$' and '@', which may be
	// leetspeak letters ("$unsh1ne2024" is "sunshine").
	for _, keep := range []string{"", "$@"} {
		core := strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !strings.ContainsRune(keep, r) })
		if utf8.RuneCountInString(core) < minCoreLength || len(core) == len(s) {
			continue
		}
		if _, ok := set[normalise(core)]; ok {
			return true
		}
	}
	return false
}

// strength returns zxcvbn's score (0–4) for the first strengthPrefix code
// points of s, with inputs (the user's login, names, banned words) counted
// as the most likely dictionary words.
func strength(s string, inputs []string) int {
	if utf8.RuneCountInString(s) > strengthPrefix {
		s = string([]rune(s)[:strengthPrefix])
	}
	return zxcvbn.PasswordStrength(s, inputs).Score
}
