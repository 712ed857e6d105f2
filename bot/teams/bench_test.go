package teams

import (
	"context"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/token"
)

// BenchmarkAuthenticate measures one token verification with cached keys
// (RS256 verify dominates).
func BenchmarkAuthenticate(b *testing.B) {
	f := newFakeBF(b)
	clk := &fakeClock{t: time.Now()}
	v, err := NewValidator(ValidatorOptions{MetadataURL: f.srv.URL + "/v1/.well-known/openidconfiguration",
		Issuer: testIssuer, AppID: testAppID, Clock: clk.now})
	if err != nil {
		b.Fatal(err)
	}
	bearer := "Bearer " + sign(b, testKeys(b)[0], "kid-1", f.tokenClaims(f.srv.URL))
	if _, err := v.Authenticate(context.Background(), bearer); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Authenticate(context.Background(), bearer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCard measures rendering a four-choice card with signed buttons.
func BenchmarkCard(b *testing.B) {
	signer, _ := token.New(make([]byte, 32), nil)
	c := &cards{msg: stubRenderer{}, tokens: signer, ttl: time.Minute, now: time.Now}
	r := engine.Reply{Flow: "reset", State: "choose_factor", Outputs: []engine.Output{{MessageID: "factor.choose",
		Expect: engine.Expect{Kind: engine.ExpectChoice, Choices: []engine.Choice{{ID: "totp"}, {ID: "sms"}, {ID: "voice"}, {ID: "email"}}}}}}
	b.ReportAllocs()
	for b.Loop() {
		_ = c.card(r, "en", "aad-x", true)
	}
}
