package policy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

// knownBreached are inserted into every generated file.
var knownBreached = []string{"Winter-Is-Coming-2019", "correct horse battery staple", "iloveyou-forever", "Tr0ub4dor&3xyz"}

type breachedFile struct {
	path   string
	hashes [][sha1.Size]byte // sorted, every hash in the file
}

// writeBreached writes n random hashes plus knownBreached in HIBP format.
func writeBreached(tb testing.TB, dir string, n int, seed uint64, crlf, lower bool) breachedFile {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	hashes := make([][sha1.Size]byte, 0, n+len(knownBreached))
	for range n {
		var h [sha1.Size]byte
		for i := 0; i < sha1.Size; i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < sha1.Size; j++ {
				h[i+j] = byte(v >> (8 * j))
			}
		}
		hashes = append(hashes, h)
	}
	for _, p := range knownBreached {
		hashes = append(hashes, sha1.Sum([]byte(p)))
	}
	slices.SortFunc(hashes, func(a, b [sha1.Size]byte) int { return bytes.Compare(a[:], b[:]) })
	hashes = slices.Compact(hashes)
	path := filepath.Join(dir, fmt.Sprintf("pwned-%d-%d.txt", n, seed))
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	eol := "\n"
	if crlf {
		eol = "\r\n"
	}
	for _, h := range hashes {
		s := strings.ToUpper(hex.EncodeToString(h[:]))
		if lower {
			s = strings.ToLower(s)
		}
		// Counts of very different widths make line lengths vary.
		fmt.Fprintf(w, "%s:%d%s", s, 1+rng.IntN(1<<uint(rng.IntN(30))), eol)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return breachedFile{path: path, hashes: hashes}
}

func openBreached(t *testing.T, path string) *Breached {
	t.Helper()
	b, err := OpenBreached(path)
	if err != nil {
		t.Fatalf("OpenBreached: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestBreachedLookup(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name        string
		n           int
		crlf, lower bool
	}{
		{"200k lines CRLF", 200_000, true, false},
		{"50k lines LF lower case", 50_000, false, true},
		{"small", 30, false, false},
		{"only known", 0, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bf := writeBreached(t, dir, tc.n, uint64(tc.n)+1, tc.crlf, tc.lower)
			b := openBreached(t, bf.path)
			ctx := context.Background()
			for _, p := range knownBreached {
				if ok, err := b.Contains(ctx, secret.New(p)); err != nil || !ok {
					t.Fatalf("Contains(known) = %v, %v", ok, err)
				}
			}
			// Every hash in small files, a spread sample (first and last
			// included) in big ones.
			step := max(1, len(bf.hashes)/2000)
			idx := []int{0, len(bf.hashes) - 1}
			for i := 0; i < len(bf.hashes); i += step {
				idx = append(idx, i)
			}
			for _, i := range idx {
				if ok, err := b.ContainsHash(ctx, bf.hashes[i]); err != nil || !ok {
					t.Fatalf("ContainsHash(line %d) = %v, %v", i, ok, err)
				}
			}
			// Absent: neighbours of present hashes, and the extremes.
			absent := [][sha1.Size]byte{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
			for _, i := range idx {
				h := bf.hashes[i]
				h[sha1.Size-1] ^= 1
				if _, found := slices.BinarySearchFunc(bf.hashes, h, func(a, b [sha1.Size]byte) int { return bytes.Compare(a[:], b[:]) }); !found {
					absent = append(absent, h)
				}
			}
			for _, h := range absent {
				if ok, err := b.ContainsHash(ctx, h); err != nil || ok {
					t.Fatalf("ContainsHash(absent %x) = %v, %v", h, ok, err)
				}
			}
			if ok, err := b.Contains(ctx, secret.New("not in the list at all, surely")); err != nil || ok {
				t.Fatalf("Contains(absent) = %v, %v", ok, err)
			}
		})
	}
}

func TestOpenBreachedRejects(t *testing.T) {
	h1 := strings.Repeat("1", 40)
	h2 := strings.Repeat("2", 40)
	h3 := strings.Repeat("3", 40)
	tests := []struct {
		name, body, want string
	}{
		{"empty", "", "empty"},
		{"unsorted", h2 + ":1\n" + h1 + ":1\n", "not sorted"},
		{"duplicate", h1 + ":1\n" + h1 + ":2\n", "not sorted"},
		{"NTLM hashes", strings.Repeat("A", 32) + ":5\n", "40-digit"},
		{"not hex", strings.Repeat("G", 40) + ":5\n", "40-digit"},
		{"bad count", h1 + ":x\n", "count"},
		{"missing count", h1 + ":\n", "HASH:count"},
		{"long line", h1 + ":" + strings.Repeat("9", 200) + "\n", "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.txt")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := OpenBreached(path)
			if !errors.Is(err, ErrBadBreachedFile) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("OpenBreached error = %v, want ErrBadBreachedFile with %q", err, tt.want)
			}
		})
	}
	t.Run("unsorted tail", func(t *testing.T) {
		var sb strings.Builder
		for i := range 3000 {
			fmt.Fprintf(&sb, "%08X%s:1\n", i+0x10000000, strings.Repeat("0", 32))
		}
		sb.WriteString(strings.Repeat("0", 40) + ":1\n")
		path := filepath.Join(t.TempDir(), "f.txt")
		if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenBreached(path); !errors.Is(err, ErrBadBreachedFile) {
			t.Fatalf("OpenBreached = %v, want ErrBadBreachedFile", err)
		}
	})
	t.Run("hash-only lines accepted", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "f.txt")
		if err := os.WriteFile(path, []byte(h1+"\n"+h2+"\n"+h3), 0o600); err != nil {
			t.Fatal(err)
		}
		b := openBreached(t, path)
		var sum [sha1.Size]byte
		copy(sum[:], bytes.Repeat([]byte{0x33}, sha1.Size))
		if ok, err := b.ContainsHash(context.Background(), sum); err != nil || !ok {
			t.Fatalf("ContainsHash(last, no newline) = %v, %v", ok, err)
		}
	})
}

func TestCheckBreached(t *testing.T) {
	bf := writeBreached(t, t.TempDir(), 1000, 7, true, false)
	// The length and strength rules would refuse some of these first.
	c := newChecker(t, Options{BreachedFile: bf.path, MinLength: 8, MinStrength: NoStrengthCheck})
	ctx := context.Background()
	for _, p := range knownBreached {
		ref, err := c.Check(ctx, secret.New(p), directory.User{})
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil || ref.Reason != ReasonBreached {
			t.Fatalf("Check(%q) = %+v, want breached", p, ref)
		}
		assertNoLeak(t, p, ref)
	}
	if ref, err := c.Check(ctx, secret.New("marble-otter-lantern-12"), directory.User{}); err != nil || ref != nil {
		t.Fatalf("Check(fresh) = %+v, %v", ref, err)
	}
	// A cancelled context on a large file, and a closed file, fail closed.
	big := writeBreached(t, t.TempDir(), 50_000, 8, false, false)
	c2 := newChecker(t, Options{BreachedFile: big.path})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c2.Check(cctx, secret.New("marble-otter-lantern-12"), directory.User{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Check(cancelled) err = %v", err)
	}
	_ = c2.Close()
	_, err := c2.Check(ctx, secret.New("marble-otter-lantern-12"), directory.User{})
	if err == nil {
		t.Fatal("Check on a closed file: want error")
	}
	if strings.Contains(err.Error(), "marble") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

// BenchmarkBreachedLookup generates a 2M-line (≈90 MB) file once, then
// measures lookups of present and absent hashes (page cache warm).
func BenchmarkBreachedLookup(b *testing.B) {
	bf := writeBreached(b, b.TempDir(), 2_000_000, 42, true, false)
	br, err := OpenBreached(bf.path)
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	ctx := context.Background()
	b.Run("present", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if ok, err := br.ContainsHash(ctx, bf.hashes[(i*7919)%len(bf.hashes)]); err != nil || !ok {
				b.Fatalf("lookup = %v, %v", ok, err)
			}
			i++
		}
	})
	b.Run("absent", func(b *testing.B) {
		i := 0
		for b.Loop() {
			h := bf.hashes[(i*7919)%len(bf.hashes)]
			h[sha1.Size-1] ^= 1
			if _, err := br.ContainsHash(ctx, h); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Check with breached file", func(b *testing.B) {
		c, err := New(Options{BreachedFile: bf.path, BannedWords: []string{"acme", "resetbot"}, CheckRepetition: true})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		pw := secret.New("marble-otter-lantern-12")
		for b.Loop() {
			if _, err := c.Check(ctx, pw, alice); err != nil {
				b.Fatal(err)
			}
		}
	})
}
