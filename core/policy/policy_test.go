package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

var alice = directory.User{
	ID:        "uid=asmith,ou=people,dc=example,dc=org",
	Login:     `CORP\asmith`,
	GivenName: "Alice",
	Surname:   "Smith-Jones",
	Email:     "alice.smith@example.org",
}

func newChecker(t *testing.T, opts Options) *Checker {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestCheck(t *testing.T) {
	c := newChecker(t, Options{
		BannedWords:     []string{"Acme", "resetbot", "password"},
		CheckRepetition: true,
	})
	tests := []struct {
		name   string
		pw     string
		reason string // "" means accepted
		args   map[string]string
	}{
		{"plain passphrase", "correct horse battery", "", nil},
		{"exactly min length", "tulip-walrus-ox", "", nil},
		{"one short", "tulip-walrus-o", ReasonTooShort, map[string]string{"min": "15"}},
		{"length in code points not bytes", "ééééééé-ñandú-ox", "", nil},
		{"emoji with zero-width joiner", "👩‍💻 codes late at night", "", nil},
		{"trailing and leading space kept", " tulip-walrus! ", "", nil},
		{"only spaces counted as characters", "tulip walrus o", ReasonTooShort, map[string]string{"min": "15"}},
		{"257 code points", strings.Repeat("é", 257), ReasonTooLong, map[string]string{"max": "256"}},
		{"256 varied code points", strings.Repeat("tulip-walrus-", 19) + "gecko-zeb", "", nil},
		{"tab", "tulip\twalrus mocha", ReasonInvalidCharacters, nil},
		{"newline", "tulip walrus\n", ReasonInvalidCharacters, nil},
		{"NUL", "tulip walrus\x00mocha", ReasonInvalidCharacters, nil},
		{"line separator", "tulip walrus\u2028mocha", ReasonInvalidCharacters, nil},
		{"invalid UTF-8", "tulip walrus \xff mocha", ReasonInvalidCharacters, nil},
		{"login local part", "my ASMITH account!", ReasonContainsLogin, map[string]string{"field": "login"}},
		{"whole login with domain", `xx corp\asmith yy`, ReasonContainsLogin, map[string]string{"field": "login"}},
		{"email local part", "Alice.Smith rocks!!", ReasonContainsLogin, map[string]string{"field": "email"}},
		{"given name", "wonderland-alice-99", ReasonContainsName, map[string]string{"field": "given_name"}},
		{"given name in leetspeak", "w0nderland-@1ice-99", ReasonContainsName, map[string]string{"field": "given_name"}},
		{"surname whole", "met smith-jones today", ReasonContainsName, map[string]string{"field": "surname"}},
		{"surname part", "keeping up with the jones", ReasonContainsName, map[string]string{"field": "surname"}},
		{"banned word case-insensitive", "I work at ACME since 2019", ReasonBannedWord, nil},
		{"banned word leetspeak", "P@$$w0rd-for-my-bank", ReasonBannedWord, nil},
		{"banned word 1 for l", "my re5etb0t helper", ReasonBannedWord, nil},
		{"all same", "aaaaaaaaaaaaaaa", ReasonRepetitive, nil},
		{"alphabet", "abcdefghijklmnop", ReasonRepetitive, nil},
		{"digits", "123456789012345", ReasonRepetitive, nil},
		{"keyboard walk", "qwertyuiop[]asdf", ReasonRepetitive, nil},
		{"repeated unit", "xq7xq7xq7xq7xq7", ReasonRepetitive, nil},
		{"runs of two kinds", "zzzzzzzqqqqqqqq1111111", ReasonRepetitive, nil},
		{"some repetition is fine", "tulip!!!walrus-ox", "", nil},
		{"common with digits", "dragon123456789", ReasonCommon, nil},
		{"common with digits and symbol", "Sunshine12345678!", ReasonCommon, nil},
		{"common in leetspeak", "$unsh1ne-2024-2025!", ReasonCommon, nil},
		{"common words repeated", "iloveyou-forever", ReasonWeak, nil},
		{"keyboard columns", "1qaz2wsx3edc4rfv", ReasonWeak, nil},
		{"dictionary words and a year", "Summer2024Summer2024", ReasonWeak, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := c.Check(context.Background(), secret.New(tt.pw), alice)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if tt.reason == "" {
				if ref != nil {
					t.Fatalf("refused %q: %s", tt.pw, ref.Reason)
				}
				return
			}
			if ref == nil {
				t.Fatalf("accepted %q, want %s", tt.pw, tt.reason)
			}
			if ref.Reason != tt.reason {
				t.Fatalf("reason %s, want %s", ref.Reason, tt.reason)
			}
			for k, v := range tt.args {
				if ref.Args[k] != v {
					t.Errorf("arg %s = %q, want %q", k, ref.Args[k], v)
				}
			}
			assertNoLeak(t, tt.pw, ref)
		})
	}
}

// assertNoLeak checks that no printed form of the refusal carries the
// password or a 4-character piece of it.
func assertNoLeak(t *testing.T, pw string, ref *Refusal) {
	t.Helper()
	text := fmt.Sprintf("%v %+v %s %s", ref, *ref, ref.Explain(), ref.MessageID())
	for _, v := range ref.Args {
		text += " " + v
	}
	rs := []rune(pw)
	for i := 0; i+4 <= len(rs); i++ {
		piece := string(rs[i : i+4])
		if strings.TrimSpace(piece) != piece || strings.ContainsAny(piece, " ") {
			continue
		}
		if strings.Contains(text, piece) && !strings.Contains(ref.Explain(), piece) {
			t.Fatalf("refusal text %q contains %q from the password", text, piece)
		}
	}
}

// TestCommonRefusedAtAnyLength: with the minimum lowered to 8, the
// passwords of the issue are still refused, as common, with a plain reason.
func TestCommonRefusedAtAnyLength(t *testing.T) {
	c := newChecker(t, Options{MinLength: 8, MinStrength: NoStrengthCheck})
	for _, pw := range []string{"password1234", "Password123!", "P@ssw0rd2024", "123456qwerty!", "!!dragon2024", "Iloveyou1"} {
		ref, err := c.Check(context.Background(), secret.New(pw), directory.User{})
		if err != nil || ref == nil || ref.Reason != ReasonCommon {
			t.Errorf("Check(%q) = %+v, %v; want common", pw, ref, err)
			continue
		}
		if !strings.Contains(ref.Explain(), "most common passwords") {
			t.Errorf("Explain = %q", ref.Explain())
		}
		assertNoLeak(t, pw, ref)
	}
	// A common word inside a longer passphrase is fine.
	for _, pw := range []string{"dragon-velvet-quarry-8", "my monkey eats tulips"} {
		if ref, err := c.Check(context.Background(), secret.New(pw), directory.User{}); err != nil || ref != nil {
			t.Errorf("Check(%q) = %+v, %v; want accepted", pw, ref, err)
		}
	}
	if n := CommonCount(); n < 3000 {
		t.Errorf("embedded common list has %d entries, want at least 3000", n)
	}
}

// TestStrengthOption: 0 is the default score, NoStrengthCheck turns the
// estimate off, and scores outside 1–4 are refused.
func TestStrengthOption(t *testing.T) {
	if c := newChecker(t, Options{}); c.MinStrength() != DefaultMinStrength {
		t.Errorf("default MinStrength = %d", c.MinStrength())
	}
	if c := newChecker(t, Options{MinStrength: NoStrengthCheck}); c.MinStrength() != 0 {
		t.Errorf("NoStrengthCheck gives %d", c.MinStrength())
	}
	for _, bad := range []int{5, -2} {
		if _, err := New(Options{MinStrength: bad}); err == nil {
			t.Errorf("MinStrength %d accepted", bad)
		}
	}
}

func TestCheckWithoutRepetition(t *testing.T) {
	c := newChecker(t, Options{MinStrength: NoStrengthCheck})
	ref, err := c.Check(context.Background(), secret.New("aaaaaaaaaaaaaaa"), directory.User{})
	if err != nil || ref != nil {
		t.Fatalf("Check = %v, %v; want accepted when CheckRepetition is off", ref, err)
	}
	// With the default strength estimate it is refused anyway.
	c = newChecker(t, Options{})
	if ref, err := c.Check(context.Background(), secret.New("aaaaaaaaaaaaaaa"), directory.User{}); err != nil || ref == nil || ref.Reason != ReasonWeak {
		t.Fatalf("Check = %v, %v; want weak", ref, err)
	}
}

func TestShortFragmentsIgnored(t *testing.T) {
	c := newChecker(t, Options{})
	u := directory.User{Login: "al", GivenName: "Al", Surname: "Li", Email: "al@example.org"}
	ref, err := c.Check(context.Background(), secret.New("always alive lines"), u)
	if err != nil || ref != nil {
		t.Fatalf("Check = %+v, %v; want accepted (fragments under 3 characters)", ref, err)
	}
}

func TestMessageIDAndExplain(t *testing.T) {
	for _, r := range []string{ReasonTooShort, ReasonTooLong, ReasonContainsLogin, ReasonContainsName,
		ReasonBannedWord, ReasonBreached, ReasonRepetitive, ReasonInvalidCharacters} {
		t.Run(r, func(t *testing.T) {
			ref := Refusal{Reason: r, Args: map[string]string{"min": "12", "max": "256"}}
			if got := ref.MessageID(); got != "password.rejected."+r {
				t.Fatalf("MessageID = %q", got)
			}
			e := ref.Explain()
			if e == "" || !strings.HasSuffix(e, ".") || strings.Contains(e, "policy (") {
				t.Fatalf("Explain = %q, want a specific sentence", e)
			}
		})
	}
	if e := (Refusal{Reason: "too_short"}).Explain(); !strings.Contains(e, "more") {
		t.Fatalf("Explain without args = %q", e)
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"defaults", Options{}, ""},
		{"min 15", Options{MinLength: 15}, ""},
		{"min below 8", Options{MinLength: 6}, "below 8"},
		{"max below 64", Options{MaxLength: 32}, "below 64"},
		{"max below min", Options{MinLength: 100, MaxLength: 80}, "below min"},
		{"short banned word", Options{BannedWords: []string{"ok", "acme"}}, "shorter than 3"},
		{"missing banned file", Options{BannedFile: "/nonexistent/banned.txt"}, "banned-words file"},
		{"missing breached file", Options{BreachedFile: "/nonexistent/pwned.txt"}, "breached-password file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				_ = c.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want %q", err, tt.wantErr)
			}
		})
	}
	c := newChecker(t, Options{})
	if c.MinLength() != DefaultMinLength || c.MaxLength() != DefaultMaxLength {
		t.Fatalf("defaults = %d..%d", c.MinLength(), c.MaxLength())
	}
}

func TestBannedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "banned.txt")
	body := "# company words\n\nGlobex\n  initech \nab\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newChecker(t, Options{BannedFile: path, BannedWords: []string{"umbrella"}})
	tests := []struct {
		pw     string
		banned bool
	}{
		{"joined GLOBEX in 2020", true},
		{"1n1tech was my first job", true},
		{"an umbre11a for the rain", true},
		{"ab ab is too short to ban", false},
		{"# company words here", false},
	}
	for _, tt := range tests {
		t.Run(tt.pw, func(t *testing.T) {
			ref, err := c.Check(context.Background(), secret.New(tt.pw), directory.User{})
			if err != nil {
				t.Fatal(err)
			}
			if got := ref != nil && ref.Reason == ReasonBannedWord; got != tt.banned {
				t.Fatalf("banned = %v (refusal %+v), want %v", got, ref, tt.banned)
			}
		})
	}
}

func TestEffectiveLength(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"aaaa", 1},
		{"abcd", 1},
		{"dcba", 1},
		{"qwerty", 1},
		{"ab", 2},
		{"abab", 2},
		{"abcabcabc", 1},
		{"hello", 5},
		{"Summer2024!!", 12},
		{"abcxyz", 2},
		{"maple-otter", 11},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			if got := effectiveLength(tt.s); got != tt.want {
				t.Fatalf("effectiveLength(%q) = %d, want %d", tt.s, got, tt.want)
			}
		})
	}
}

// BenchmarkCheck measures the in-memory rules (no breached file) on a
// typical passphrase with a few hundred banned words.
func BenchmarkCheck(b *testing.B) {
	words := make([]string, 0, 300)
	for i := range 300 {
		words = append(words, fmt.Sprintf("brand%03d", i))
	}
	c, err := New(Options{BannedWords: words, CheckRepetition: true})
	if err != nil {
		b.Fatal(err)
	}
	pw := secret.New("marble-otter-lantern-12 and a bit more")
	for b.Loop() {
		if ref, err := c.Check(context.Background(), pw, alice); err != nil || ref != nil {
			b.Fatal(ref, err)
		}
	}
}
