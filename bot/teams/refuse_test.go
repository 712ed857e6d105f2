package teams

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestRefusedRequests is the webhook rejection table: every bad request is
// refused before the engine runs and makes no outbound call.
func TestRefusedRequests(t *testing.T) {
	r := newRig(t)
	keys := testKeys(t)
	good := func() jwt.MapClaims { return r.fake.tokenClaims(r.fake.srv.URL) }
	with := func(k string, v any) jwt.MapClaims { c := good(); c[k] = v; return c }
	bearer := func(c jwt.MapClaims) string { return "Bearer " + sign(t, keys[0], "kid-1", c) }
	msg := func(mut func(map[string]any)) map[string]any {
		a := r.activity("amartin", "message")
		a["text"] = "reset"
		if mut != nil {
			mut(a)
		}
		return a
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&keys[0].PublicKey)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, good())
	hs.Header["kid"] = "kid-1"
	hsTok, _ := hs.SignedString(pubDER)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"kid-1"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(mustJSON(t, good())) + "."
	jku := jwt.NewWithClaims(jwt.SigningMethodRS256, good())
	jku.Header["kid"] = "attacker"
	jku.Header["jku"] = r.fake.srv.URL + "/attacker-keys"
	jkuTok, _ := jku.SignedString(keys[1])

	tests := []struct {
		name   string
		auth   string
		body   any
		want   int
		reason string // the audit reason, when the table pins it
	}{
		{"no token", "", msg(nil), http.StatusUnauthorized, "no_token"},
		{"not bearer", "Basic abc", msg(nil), http.StatusUnauthorized, ""},
		{"garbage token", "Bearer not.a.jwt", msg(nil), http.StatusUnauthorized, ""},
		{"bad signature", "Bearer " + sign(t, keys[1], "kid-1", good()), msg(nil), http.StatusUnauthorized, ""},
		{"wrong audience", bearer(with("aud", "another-bot")), msg(nil), http.StatusUnauthorized, "wrong_audience"},
		{"wrong issuer", bearer(with("iss", "https://evil.example")), msg(nil), http.StatusUnauthorized, ""},
		{"expired", bearer(with("exp", time.Now().Add(-10*time.Minute).Unix())), msg(nil), http.StatusUnauthorized, "token_expired"},
		{"no expiry", func() string { c := good(); delete(c, "exp"); return bearer(c) }(), msg(nil), http.StatusUnauthorized, ""},
		{"not yet valid", bearer(with("nbf", time.Now().Add(10*time.Minute).Unix())), msg(nil), http.StatusUnauthorized, ""},
		{"alg none", "Bearer " + none, msg(nil), http.StatusUnauthorized, ""},
		{"HS256 with the public key", "Bearer " + hsTok, msg(nil), http.StatusUnauthorized, ""},
		{"jku header ignored", "Bearer " + jkuTok, msg(nil), http.StatusUnauthorized, ""},
		{"serviceurl mismatch", bearer(with("serviceurl", "https://smba.trafficmanager.net/amer/")), msg(nil), http.StatusForbidden, "serviceurl_mismatch"},
		{"no serviceurl claim", func() string { c := good(); delete(c, "serviceurl"); return bearer(c) }(), msg(nil), http.StatusForbidden, ""},
		{"serviceUrl off the allowlist", bearer(with("serviceurl", "https://evil.example/")),
			msg(func(a map[string]any) { a["serviceUrl"] = "https://evil.example/" }), http.StatusForbidden, ""},
		{"channel not endorsed", r.bearer(), msg(func(a map[string]any) { a["channelId"] = "webchat" }), http.StatusForbidden, ""},
		{"foreign tenant", r.bearer(), msg(func(a map[string]any) {
			a["channelData"] = map[string]any{"tenant": map[string]string{"id": "99999999-0000-0000-0000-000000000000"}}
			a["conversation"] = map[string]string{"id": "a:conv-x", "conversationType": "personal"}
		}), http.StatusForbidden, "foreign_tenant"},
		{"tenant claims disagree", r.bearer(), msg(func(a map[string]any) {
			a["conversation"] = map[string]string{"id": "a:conv-x", "conversationType": "personal", "tenantId": "other"}
		}), http.StatusForbidden, ""},
		{"malformed JSON", r.bearer(), []byte(`{"type":"message",`), http.StatusBadRequest, "malformed"},
		{"wrong JSON types", r.bearer(), []byte(`{"type":"message","serviceUrl":7}`), http.StatusBadRequest, ""},
		{"no conversation", r.bearer(), []byte(`{"type":"message","serviceUrl":"` + r.fake.srv.URL + `"}`), http.StatusBadRequest, ""},
		{"oversized body", r.bearer(), bytes.Repeat([]byte("x"), MaxActivityBytes+1), http.StatusRequestEntityTooLarge, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := r.fake.connectorN.Load()
			audited := len(r.rejections())
			code, body := r.post(tt.body, tt.auth)
			if code != tt.want {
				t.Fatalf("HTTP %d %s, want %d", code, body, tt.want)
			}
			r.idle()
			if n := r.fake.connectorN.Load() - before; n != 0 {
				t.Errorf("%d connector calls for a refused request", n)
			}
			got := r.rejections()[audited:]
			if len(got) != 1 {
				t.Fatalf("%d authn.rejected audit events, want exactly 1: %v", len(got), got)
			}
			if got[0]["channel"] != Channel || got[0]["reason"] == "" || got[0]["reason"] == nil {
				t.Errorf("audit event without channel or reason: %v", got[0])
			}
			if tt.reason != "" && got[0]["reason"] != tt.reason {
				t.Errorf("reason %v, want %s", got[0]["reason"], tt.reason)
			}
		})
	}
	if s := r.pool.Stats(); s.Done != 0 {
		t.Errorf("refused requests reached the worker pool: %+v", s)
	}
	r.sweep()
	if r.logs.Contains("eyJ") || r.audit.Contains("eyJ") {
		t.Error("a JWT was logged or audited")
	}
	if r.audit.Contains("amartin") || r.audit.Contains(`"reset"`) {
		t.Error("a refused activity's payload reached the audit trail")
	}
}

// TestKeyRotation: a token with an unknown key ID triggers one JWKS refresh;
// after a Microsoft key rollover the new key is accepted; random key IDs do
// not make the bot hammer the metadata endpoint.
func TestKeyRotation(t *testing.T) {
	r := newRig(t)
	keys := testKeys(t)
	r.say("amartin", "hello") // warms the key cache with kid-1
	calls := r.fake.jwksCalls.Load()

	r.fake.rotate("kid-2", keys[1])
	act := r.activity("amartin", "message")
	act["text"] = "hello"
	if code, _ := r.post(act, "Bearer "+sign(t, keys[1], "kid-2", r.fake.tokenClaims(r.fake.srv.URL))); code != http.StatusOK {
		t.Fatalf("rotated key refused: HTTP %d", code)
	}
	r.jobs++
	r.idle()
	if got := r.fake.jwksCalls.Load() - calls; got != 1 {
		t.Fatalf("rotation made %d JWKS fetches, want 1", got)
	}
	for i := range 5 {
		kid := "random-" + strings.Repeat("x", i)
		if code, _ := r.post(r.activity("amartin", "message"), "Bearer "+sign(t, keys[2], kid, r.fake.tokenClaims(r.fake.srv.URL))); code != http.StatusUnauthorized {
			t.Fatalf("unknown kid: HTTP %d", code)
		}
	}
	if got := r.fake.jwksCalls.Load() - calls; got != 1 {
		t.Errorf("unknown key IDs caused %d more JWKS fetches, want none (rate-limited)", got-1)
	}
	// The old key is gone from the JWKS: its tokens no longer verify.
	if code, _ := r.post(r.activity("amartin", "message"), r.bearer()); code != http.StatusUnauthorized {
		t.Errorf("retired key accepted: HTTP %d", code)
	}
}

// TestMethodNotAllowed: only POST reaches the handler.
func TestMethodNotAllowed(t *testing.T) {
	r := newRig(t)
	resp, err := http.Get(r.http.URL + "/api/messages")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d", resp.StatusCode)
	}
}

// TestTokenEndpointDown: replies fail cleanly (bounded retries, an error in
// the log, no panic) and work again once the endpoint is back.
func TestTokenEndpointDown(t *testing.T) {
	r := newRig(t)
	r.fake.tokenDown.Store(true)
	r.say("amartin", "reset")
	// Two calls (member lookup, reply), three attempts each.
	if got := r.fake.tokenCalls.Load(); got < 3 || got > 6 {
		t.Errorf("%d token attempts, want 3 to 6 (bounded retries)", got)
	}
	if !r.logs.Contains("token endpoint failed") {
		t.Error("no clear error logged")
	}
	r.fake.tokenDown.Store(false)
	r.say("amartin", "cancel")
	if len(r.writes()) == 0 {
		t.Fatal("no reply after the token endpoint recovered")
	}
	r.sweep()
}

// TestIgnoredActivities: other activity types get 200 and nothing else.
func TestIgnoredActivities(t *testing.T) {
	r := newRig(t)
	for _, typ := range []string{"messageReaction", "typing", "installationUpdate", "endOfConversation", "event"} {
		if code, _ := r.post(r.activity("amartin", typ), r.bearer()); code != http.StatusOK {
			t.Errorf("%s: HTTP %d", typ, code)
		}
	}
	inv := r.activity("amartin", "invoke")
	inv["name"] = "task/fetch"
	if code, _ := r.post(inv, r.bearer()); code != http.StatusOK {
		t.Errorf("task/fetch: HTTP %d", code)
	}
	if r.fake.connectorN.Load() != 0 || r.pool.Stats().Done != 0 {
		t.Error("ignored activities caused work")
	}
}

// TestForgedCardToken: a card submit whose token is altered, or was issued
// to another user, is refused without reaching the engine.
func TestForgedCardToken(t *testing.T) {
	r := newRig(t)
	r.say("amartin", "reset")
	card, id := r.shown()
	tok := r.button(card, "amartin", "c:sms")
	// An altered token: the conformance suite's forged_delivery.
	for name, bad := range map[string]string{
		"missing": "",
	} {
		t.Run(name, func(t *testing.T) {
			r.submit("amartin", id, map[string]any{tokenKey: bad})
			w := r.writes()
			if last := w[len(w)-1]; last.Method != http.MethodPost || !strings.Contains(last.Body, "expired or was not meant for you") {
				t.Fatalf("got %+v", last)
			}
		})
	}
	// Bao clicks Alice's button (a forwarded card): refused for him.
	r.submit("bnguyen", id, map[string]any{tokenKey: tok})
	w := r.writes()
	if last := w[len(w)-1]; !strings.Contains(last.Body, "expired or was not meant for you") || !strings.Contains(last.Path, "conv-bnguyen") {
		t.Fatalf("another user's token accepted: %+v", last)
	}
	// Alice's card is untouched and still works.
	r.submit("amartin", id, map[string]any{tokenKey: tok})
	if c, _ := r.shown(); !strings.Contains(texts(c), "by text message") {
		t.Fatalf("the live card stopped working:\n%s", texts(c))
	}
	if n := len(r.a.Outbox.Messages()); n != 1 {
		t.Errorf("%d codes sent, want 1 (refused clicks send none)", n)
	}
}
