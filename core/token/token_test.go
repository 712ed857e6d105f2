package token_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/token"
)

func TestTokens(t *testing.T) {
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	s, err := token.New(bytes.Repeat([]byte{1}, 32), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	good := s.Sign(token.Claims{Purpose: "slack.choice", User: "U1", State: "choose_factor", Value: "sms", Expires: now.Add(time.Minute)})
	other, _ := token.New(bytes.Repeat([]byte{2}, 32), func() time.Time { return now })
	forged := other.Sign(token.Claims{Purpose: "slack.choice", User: "U1", State: "choose_factor", Value: "sms", Expires: now.Add(time.Minute)})
	expired := s.Sign(token.Claims{Purpose: "slack.choice", User: "U1", Expires: now.Add(-time.Second)})
	tampered := []byte(good)
	tampered[3] ^= 1
	cases := []struct {
		name, tok, purpose, user string
		want                     error
	}{
		{"good", good, "slack.choice", "U1", nil},
		{"another user's click", good, "slack.choice", "U2", token.ErrMismatch},
		{"another purpose", good, "teams.card", "U1", token.ErrMismatch},
		{"forged", forged, "slack.choice", "U1", token.ErrSignature},
		{"tampered", string(tampered), "slack.choice", "U1", token.ErrSignature},
		{"expired", expired, "slack.choice", "U1", token.ErrExpired},
		{"garbage", "%%%", "slack.choice", "U1", token.ErrMalformed},
		{"empty", "", "slack.choice", "U1", token.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := s.Verify(tc.tok, tc.purpose, tc.user)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err == nil && (c.Value != "sms" || c.State != "choose_factor") {
				t.Fatalf("claims %+v", c)
			}
		})
	}
	if _, err := token.New([]byte("short"), nil); err == nil {
		t.Fatal("short key accepted")
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := token.New(bytes.Repeat([]byte{1}, 32), nil)
	f.Add(s.Sign(token.Claims{Purpose: "p", User: "u", Expires: time.Now().Add(time.Hour)}))
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, tok string) { _, _ = s.Verify(tok, "p", "u") })
}
