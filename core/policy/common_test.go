package policy

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

// TestCheckConcurrent runs the common list and the strength estimate from
// many goroutines (run with -race).
func TestCheckConcurrent(t *testing.T) {
	c := newChecker(t, Options{CheckRepetition: true})
	pws := []string{"Password123456!", "iloveyou-forever", "marble-otter-lantern-12", strings.Repeat("tulip-walrus-", 10)}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				pw := pws[(i+j)%len(pws)]
				if _, err := c.Check(context.Background(), secret.New(pw), alice); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkCheckStrength measures a full check of a typical and of a long password
// (the estimate looks at the first 64 code points only).
func BenchmarkCheckStrength(b *testing.B) {
	c, err := New(Options{CheckRepetition: true, BannedWords: []string{"acme"}})
	if err != nil {
		b.Fatal(err)
	}
	u := directory.User{Login: "asmith", GivenName: "Alice", Surname: "Smith"}
	for _, tc := range []struct{ name, pw string }{
		{"passphrase", "marble-otter-lantern-12"},
		{"200", "Quiet rivers carry 7 paper lanterns past the old mill while herons count reeds; ünïcødé, パスワード and 🔐 ride along, and nobody in the valley remembers who first folded them or why the ninth one glows green"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			pw := secret.New(tc.pw)
			for b.Loop() {
				if _, err := c.Check(context.Background(), pw, u); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
