package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/resetbot/resetbot/core/directory"
)

// MinFragmentLength is the shortest login, name or email fragment (in code
// points) that a password may not contain. Shorter values ("Al", "Li") would
// refuse too many good passwords for no security gain.
const MinFragmentLength = 3

// minPartLength is the shortest word taken from a multi-word name ("van der
// Berg" gives "berg" but not "van" or "der", which occur in ordinary words).
const minPartLength = 4

// fold maps a rune to the form used for every substring comparison: lower
// case, then the common leetspeak substitutions undone. "1" stands for both
// "i" and "l", so "l" is folded to "i" as well; the cost is that words that
// differ only by i/l ("slip", "siip") compare equal, which errs on the side
// of refusing.
func fold(r rune) rune {
	r = unicode.ToLower(r)
	switch r {
	case '0':
		return 'o'
	case '1', 'l':
		return 'i'
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7':
		return 't'
	}
	return r
}

// normalise folds every rune of s (see fold).
func normalise(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(fold(r))
	}
	return b.String()
}

// fragment is a piece of the user's identity a password must not contain.
type fragment struct {
	text   string // normalised
	field  string // login, email, given_name, surname
	reason string
}

// userFragments lists the identity fragments of u: the login, its local part
// (after DOMAIN\ or before @), the email local part, the given name and the
// surname, plus the words of a multi-word name. Fragments shorter than
// MinFragmentLength (minPartLength for name words) are dropped.
func userFragments(u directory.User) []fragment {
	var out []fragment
	add := func(s, field, reason string, min int) {
		s = strings.TrimSpace(s)
		if utf8.RuneCountInString(s) < min {
			return
		}
		out = append(out, fragment{text: normalise(s), field: field, reason: reason})
	}
	if l := u.Login; l != "" {
		add(l, "login", ReasonContainsLogin, MinFragmentLength)
		if i := strings.LastIndexByte(l, '\\'); i >= 0 {
			add(l[i+1:], "login", ReasonContainsLogin, MinFragmentLength)
		}
		if i := strings.IndexByte(l, '@'); i >= 0 {
			add(l[:i], "login", ReasonContainsLogin, MinFragmentLength)
		}
	}
	if i := strings.IndexByte(u.Email, '@'); i >= 0 {
		add(u.Email[:i], "email", ReasonContainsLogin, MinFragmentLength)
	}
	for _, n := range []struct{ v, field string }{{u.GivenName, "given_name"}, {u.Surname, "surname"}} {
		add(n.v, n.field, ReasonContainsName, MinFragmentLength)
		parts := strings.FieldsFunc(n.v, func(r rune) bool { return r == ' ' || r == '-' || r == '\'' })
		if len(parts) > 1 {
			for _, p := range parts {
				add(p, n.field, ReasonContainsName, minPartLength)
			}
		}
	}
	return out
}

// wordSet matches banned words as case-insensitive, leetspeak-folded
// substrings of a password.
type wordSet struct {
	words   map[string]struct{} // normalised
	lengths []int               // distinct rune lengths present, ascending
}

func newWordSet() *wordSet { return &wordSet{words: map[string]struct{}{}} }

// add inserts w; it reports false when w is shorter than MinFragmentLength.
func (ws *wordSet) add(w string) bool {
	n := utf8.RuneCountInString(w)
	if n < MinFragmentLength {
		return false
	}
	k := normalise(w)
	if _, ok := ws.words[k]; ok {
		return true
	}
	ws.words[k] = struct{}{}
	for i, l := range ws.lengths {
		if l == n {
			return true
		}
		if l > n {
			ws.lengths = append(ws.lengths[:i], append([]int{n}, ws.lengths[i:]...)...)
			return true
		}
	}
	ws.lengths = append(ws.lengths, n)
	return true
}

// contains reports whether the normalised password np contains a word. The
// cost is len(np) × distinct lengths map lookups, without allocation.
func (ws *wordSet) contains(np string) bool {
	if len(ws.words) == 0 {
		return false
	}
	offs := make([]int, 0, len(np)+1)
	for i := range np {
		offs = append(offs, i)
	}
	offs = append(offs, len(np))
	runes := len(offs) - 1
	for i := 0; i < runes; i++ {
		for _, l := range ws.lengths {
			if i+l > runes {
				break
			}
			if _, ok := ws.words[np[offs[i]:offs[i+l]]]; ok {
				return true
			}
		}
	}
	return false
}

// keyboardRows are the QWERTY rows used to spot keyboard walks.
var keyboardRows = []string{"`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./"}

// Step kinds between two neighbouring runes, as bits so one pair can be
// several kinds at once ("op" is both alphabetical and a keyboard walk).
const (
	stepSame = 1 << iota
	stepUp
	stepDown
	stepKeyRight
	stepKeyLeft
)

func stepKinds(a, b rune) int {
	k := 0
	switch b - a {
	case 0:
		k |= stepSame
	case 1:
		k |= stepUp
	case -1:
		k |= stepDown
	}
	for _, row := range keyboardRows {
		i := strings.IndexRune(row, a)
		if i < 0 {
			continue
		}
		if i+1 < len(row) && rune(row[i+1]) == b {
			k |= stepKeyRight
		}
		if i > 0 && rune(row[i-1]) == b {
			k |= stepKeyLeft
		}
	}
	return k
}

// effectiveLength counts the runes of s that are not predictable: a run of
// three or more repeated, alphabetical/numerical or keyboard-walk characters
// ("aaaa", "4567", "qwerty") counts as one, and a password made of a unit
// repeated end to end ("abcabc...") counts as that unit.
func effectiveLength(s string) int {
	rs := []rune(strings.ToLower(s))
	if p := period(rs); p > 0 {
		rs = rs[:p]
	}
	n := 0
	for i := 0; i < len(rs); {
		j := i + 1
		mask := -1
		for j < len(rs) {
			m := mask & stepKinds(rs[j-1], rs[j])
			if m == 0 {
				break
			}
			mask = m
			j++
		}
		n++
		if j-i >= 3 {
			i = j
		} else {
			i++
		}
	}
	return n
}

// period returns the length of the shortest unit that, repeated at least
// twice, makes up rs (a final partial unit allowed), or 0.
func period(rs []rune) int {
	for p := 1; p*2 <= len(rs); p++ {
		ok := true
		for i := p; i < len(rs); i++ {
			if rs[i] != rs[i-p] {
				ok = false
				break
			}
		}
		if ok {
			return p
		}
	}
	return 0
}

// validRunes reports whether s is valid UTF-8 without control characters.
// Spaces and every other printable character, including format characters
// such as the zero-width joiner inside emoji, are allowed.
func validRunes(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			return false
		}
	}
	return true
}
