package code

import (
	"bytes"
	"testing"
)

// TestGenerateUniform is a smoke test of the code generator over crypto/rand:
// every position is uniform over 0-9 (chi-square, 9 degrees of freedom, bound
// far in the tail so it never flakes), codes keep their leading zeros, and the
// length is always the configured one.
func TestGenerateUniform(t *testing.T) {
	const n = 100_000
	c := New(nil, make([]byte, MinKeySize), Options{Digits: 6})
	var counts [6][10]int
	leadingZero := 0
	for range n {
		s, err := c.generate()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 6 {
			t.Fatalf("code length %d, want 6", len(s))
		}
		if s[0] == '0' {
			leadingZero++
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				t.Fatalf("non-digit in code")
			}
			counts[i][s[i]-'0']++
		}
	}
	const expected = n / 10.0
	for pos, row := range counts {
		chi2 := 0.0
		for _, got := range row {
			d := float64(got) - expected
			chi2 += d * d / expected
		}
		// P(chi2_9 > 45) is about 1e-6.
		if chi2 > 45 {
			t.Errorf("position %d: chi-square %.1f over %v", pos, chi2, row)
		}
	}
	// About n/10 codes start with 0; they must not be dropped or shortened.
	if leadingZero < n/10-1500 || leadingZero > n/10+1500 {
		t.Errorf("%d codes with a leading zero, want about %d", leadingZero, n/10)
	}
}

func TestGenerateRejectsBiasedBytes(t *testing.T) {
	// 250-255 would bias 0-5 if used; they must be skipped.
	src := append(bytes.Repeat([]byte{255}, 10), 3, 251, 19, 250, 20, 1, 2, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9)
	c := New(nil, make([]byte, MinKeySize), Options{Digits: 6, Rand: bytes.NewReader(src)})
	got, err := c.generate()
	if err != nil {
		t.Fatal(err)
	}
	if got != "390129" {
		t.Errorf("generate = %q, want 390129", got)
	}
}
