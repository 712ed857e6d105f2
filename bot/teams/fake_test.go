package teams

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testAppID    = "00000000-0000-0000-0000-0000000a9901"
	testTenant   = "11111111-2222-3333-4444-555555555555"
	testPassword = "app-secret-Do-Not-Leak-7"
	testIssuer   = "https://api.botframework.com"
)

// captured is one request the fake connector received.
type captured struct {
	Method, Path string
	Body         string
	// ID is the activity ID the fake assigned (POST) or updated (PUT).
	ID string
}

// fakeBF plays the whole Bot Framework on one httptest server: OpenID
// metadata, JWKS, the tenant's token endpoint and the connector.
type fakeBF struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey // kid → key published in the JWKS
	endorse []string
	reqs    []captured
	members map[string]map[string]string // Teams user id → member JSON
	// strictMembers makes unknown "29:" members 404 instead of ordinary members.
	strictMembers bool
	nextID        int
	newReq        chan struct{}
	tokenSeq      int

	tokenDown              atomic.Bool
	connectorStatus        atomic.Int32 // non-zero: connector answers this status
	metaCalls, tokenCalls  atomic.Int64
	jwksCalls, connectorN  atomic.Int64
	lastSecret             atomic.Value
	unauthorizedConnectorN atomic.Int64
}

var (
	keyOnce sync.Once
	keyPool []*rsa.PrivateKey
)

// testKeys returns RSA keys generated once per test binary (key generation
// is slow under -race).
func testKeys(t testing.TB) []*rsa.PrivateKey {
	keyOnce.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keyPool = append(keyPool, k)
		}
	})
	return keyPool
}

func newFakeBF(t testing.TB) *fakeBF {
	t.Helper()
	f := &fakeBF{t: t, keys: map[string]*rsa.PrivateKey{"kid-1": testKeys(t)[0]}, endorse: []string{"msteams"},
		members: map[string]map[string]string{}, newReq: make(chan struct{}, 1024)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/.well-known/openidconfiguration", func(w http.ResponseWriter, r *http.Request) {
		f.metaCalls.Add(1)
		writeJSON(w, map[string]any{"issuer": testIssuer, "jwks_uri": f.srv.URL + "/v1/.well-known/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /v1/.well-known/keys", func(w http.ResponseWriter, r *http.Request) {
		f.jwksCalls.Add(1)
		f.mu.Lock()
		defer f.mu.Unlock()
		var keys []any
		for kid, k := range f.keys {
			keys = append(keys, map[string]any{"kty": "RSA", "use": "sig", "kid": kid,
				"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes()), "endorsements": f.endorse})
		}
		writeJSON(w, map[string]any{"keys": keys})
	})
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", f.token)
	mux.HandleFunc("POST /v3/conversations", f.connector)
	mux.HandleFunc("POST /v3/conversations/{conv}/activities", f.connector)
	mux.HandleFunc("PUT /v3/conversations/{conv}/activities/{id}", f.connector)
	mux.HandleFunc("GET /v3/conversations/{conv}/members/{member}", f.connector)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeBF) token(w http.ResponseWriter, r *http.Request) {
	f.tokenCalls.Add(1)
	if f.tokenDown.Load() {
		// Drop the connection: a transport-level failure, as when AAD is unreachable.
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	if err := r.ParseForm(); err != nil || r.PathValue("tenant") != testTenant ||
		r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != testAppID ||
		r.PostForm.Get("scope") != "https://api.botframework.com/.default" {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_request"})
		return
	}
	if r.PostForm.Get("client_secret") != testPassword {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client", "error_description": "AADSTS7000215"})
		return
	}
	f.mu.Lock()
	f.tokenSeq++
	tok := fmt.Sprintf("bot-token-%d", f.tokenSeq)
	f.mu.Unlock()
	f.lastSecret.Store(tok)
	writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": tok})
}

func (f *fakeBF) connector(w http.ResponseWriter, r *http.Request) {
	f.connectorN.Add(1)
	tok, _ := f.lastSecret.Load().(string)
	if tok == "" || r.Header.Get("Authorization") != "Bearer "+tok {
		f.unauthorizedConnectorN.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if s := f.connectorStatus.Load(); s != 0 {
		w.WriteHeader(int(s))
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.nextID++
	id := fmt.Sprintf("act-%d", f.nextID)
	if r.Method == http.MethodPut {
		id = r.PathValue("id")
	}
	f.reqs = append(f.reqs, captured{Method: r.Method, Path: r.URL.Path, Body: string(body), ID: id})
	f.mu.Unlock()
	select {
	case f.newReq <- struct{}{}:
	default:
	}
	switch {
	case r.Method == http.MethodGet:
		f.mu.Lock()
		id := r.PathValue("member")
		m, ok := f.members[id]
		f.mu.Unlock()
		if user, person := strings.CutPrefix(id, "29:"); !ok && person && !f.strictMembers {
			// Any other person of the tenant: an ordinary member, no hints.
			m, ok = map[string]string{"id": id, "aadObjectId": "aad-" + user, "userRole": "user", "tenantId": testTenant}, true
		}
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeJSON(w, m)
	case r.URL.Path == "/v3/conversations":
		writeJSON(w, map[string]string{"id": "a:personal-" + id})
	case r.Method == http.MethodPut:
		writeJSON(w, map[string]string{"id": id})
	default:
		writeJSON(w, map[string]string{"id": id})
	}
}

// requests returns a copy of what the connector received.
func (f *fakeBF) requests() []captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]captured(nil), f.reqs...)
}

// waitFor blocks until the connector has received at least n requests that
// match keep (all when nil), and returns them.
func (f *fakeBF) waitFor(n int, keep func(captured) bool) []captured {
	f.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		var got []captured
		for _, c := range f.requests() {
			if keep == nil || keep(c) {
				got = append(got, c)
			}
		}
		if len(got) >= n {
			return got
		}
		select {
		case <-f.newReq:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			f.t.Fatalf("connector got %d matching requests, want %d: %+v", len(got), n, f.requests())
		}
	}
}

// rotate publishes only a new key (a Microsoft key rollover).
func (f *fakeBF) rotate(kid string, k *rsa.PrivateKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = map[string]*rsa.PrivateKey{kid: k}
}

// tokenClaims are the claims the Bot Framework puts in channel → bot tokens.
func (f *fakeBF) tokenClaims(serviceURL string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"iss": testIssuer, "aud": testAppID, "serviceurl": serviceURL,
		"nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
}

// sign signs claims with the named key (RS256).
func sign(t testing.TB, k *rsa.PrivateKey, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// closedURL is an address nothing listens on.
func closedURL(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	_ = l.Close()
	return u
}
