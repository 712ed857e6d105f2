package token_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/token"
)

// TestTokensOfEarlierReleasesVerify: tokens signed before the signer pooled
// its HMAC state and built tokens in place still verify, byte for byte.
func TestTokensOfEarlierReleasesVerify(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	s, _ := token.New(key, func() time.Time { return time.Unix(0, 0) })
	c := token.Claims{Purpose: "slack.choice", User: "T1:U1", State: "choose_factor", Value: "flow:reset", Expires: time.Unix(4102444800, 0)}
	const old = "c2xhY2suY2hvaWNlfFQxOlUxfGNob29zZV9mYWN0b3J8ZmxvdzpyZXNldHwxdnVobW8w.N-Jr3qgAPEyCogW4Dn07A_1y"
	if got := s.Sign(c); got != old {
		t.Fatalf("Sign = %s, want %s", got, old)
	}
	if got, err := s.Verify(old, c.Purpose, c.User); err != nil || got != c {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	odd := token.Claims{Purpose: "p", Value: "é|x", Expires: time.Unix(-5, 0)}
	if got := s.Sign(odd); got != "cHx8fMOpfHh8LTU.fZ3tP2Tf6quuztUDQoWcbRDs" {
		t.Fatalf("Sign = %s", got)
	}
}

// reference signs as the format is specified, with a fresh HMAC.
func reference(key []byte, c token.Claims) string {
	body := strings.Join([]string{c.Purpose, c.User, c.State, c.Value, strconv.FormatInt(c.Expires.Unix(), 36)}, "|")
	enc := base64.RawURLEncoding.EncodeToString([]byte(body))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(enc))
	return enc + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// TestPooledStateConcurrent signs and verifies from many goroutines at once
// (run with -race) with two signers of different keys: every token equals
// the one a fresh HMAC gives, so no pooled state leaks input or key from
// one call, or one signer, into another. Long claims exercise the chunked
// write of Verify.
func TestPooledStateConcurrent(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	keys := [][]byte{bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 40)}
	var signers []*token.Signer
	for _, k := range keys {
		s, _ := token.New(k, func() time.Time { return now })
		signers = append(signers, s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				which := (g + i) % 2
				s := signers[which]
				c := token.Claims{Purpose: "slack.choice", User: "T1:U" + strconv.Itoa(g),
					State: strings.Repeat("s", i%5*100), Value: strconv.Itoa(i), Expires: now.Add(time.Minute)}
				tok := s.Sign(c)
				if want := reference(keys[which], c); tok != want {
					t.Errorf("Sign = %s, want %s", tok, want)
					return
				}
				if got, err := s.Verify(tok, c.Purpose, c.User); err != nil || got != c {
					t.Errorf("Verify = %+v, %v", got, err)
					return
				}
				if _, err := signers[1-which].Verify(tok, c.Purpose, c.User); err != token.ErrSignature {
					t.Errorf("other key: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkSign(b *testing.B) {
	s, _ := token.New(bytes.Repeat([]byte{1}, 32), nil)
	c := token.Claims{Purpose: "slack.choice", User: "T0123ABCD:U0123ABCD", State: "choose_factor", Value: "flow:reset", Expires: time.Now().Add(time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Sign(c)
	}
}
