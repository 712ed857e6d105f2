package workspace_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // what the API documents
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/fanout"
	"github.com/resetbot/resetbot/core/fanout/workspace"
	"github.com/resetbot/resetbot/core/secret"
)

const (
	saEmail = "resetbot@corp-project.iam.gserviceaccount.com"
	admin   = "admin@corp.example"
)

// fakeGoogle is a faithful fake of the two documented endpoints resetbot
// uses: the OAuth 2.0 token endpoint with the JWT bearer grant, and the
// Directory API's users.update.
type fakeGoogle struct {
	pub      *rsa.PublicKey
	srv      *httptest.Server
	mu       sync.Mutex
	tokens   map[string]bool
	users    map[string]string // primaryEmail -> hashFunction:hash
	down     int               // answer 503 this many times
	raw      [][]byte
	tokenReq int
}

func (g *fakeGoogle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	g.mu.Lock()
	defer g.mu.Unlock()
	var hdr bytes.Buffer
	_ = r.Header.Write(&hdr)
	g.raw = append(g.raw, append([]byte(r.URL.String()+"\n"+hdr.String()), body...))
	switch {
	case r.URL.Path == "/token" && r.Method == http.MethodPost:
		g.token(w, body)
	case strings.HasPrefix(r.URL.Path, "/admin/directory/v1/users/") && r.Method == http.MethodPut:
		g.update(w, r, body)
	default:
		gerr(w, http.StatusNotFound, "Not Found")
	}
}

func gerr(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func (g *fakeGoogle) token(w http.ResponseWriter, body []byte) {
	g.tokenReq++
	form, err := parseForm(body)
	if err != nil || form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		gerr(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(form["assertion"], claims, func(*jwt.Token) (any, error) { return g.pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(g.srv.URL+"/token"), jwt.WithIssuer(saEmail), jwt.WithExpirationRequired())
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	switch {
	case err != nil:
		gerr(w, http.StatusBadRequest, "invalid_grant: Invalid JWT Signature.")
		return
	case claims["scope"] != workspace.Scope || claims["sub"] != admin:
		gerr(w, http.StatusUnauthorized, "unauthorized_client: Client is unauthorized to retrieve access tokens using this method")
		return
	case iat == nil || exp.Sub(iat.Time) > time.Hour:
		gerr(w, http.StatusBadRequest, "invalid_grant: Invalid JWT: Token must be a short-lived token (60 minutes)")
		return
	}
	tok := "ya29.fake-" + rand.Text()
	g.tokens[tok] = true
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
}

func (g *fakeGoogle) update(w http.ResponseWriter, r *http.Request, body []byte) {
	if !g.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		gerr(w, http.StatusUnauthorized, "Invalid Credentials")
		return
	}
	if g.down > 0 {
		g.down--
		gerr(w, http.StatusServiceUnavailable, "Backend Error")
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/admin/directory/v1/users/")
	if _, ok := g.users[key]; !ok {
		gerr(w, http.StatusNotFound, "Resource Not Found: userKey")
		return
	}
	var u struct {
		Password     string `json:"password"`
		HashFunction string `json:"hashFunction"`
	}
	if json.Unmarshal(body, &u) != nil {
		gerr(w, http.StatusBadRequest, "Invalid JSON payload")
		return
	}
	switch u.HashFunction {
	case "SHA-1":
		if b, err := hex.DecodeString(u.Password); err != nil || len(b) != sha1.Size {
			gerr(w, http.StatusBadRequest, "Invalid Password")
			return
		}
	case "MD5", "crypt":
	default:
		gerr(w, http.StatusBadRequest, "Invalid Input: hashFunction")
		return
	}
	g.users[key] = u.HashFunction + ":" + u.Password
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": "admin#directory#user", "primaryEmail": key})
}

// signIn is what Google does at sign-in: compare the stored hash.
func (g *fakeGoogle) signIn(email, pw string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	sum := sha1.Sum([]byte(pw)) //nolint:gosec
	return g.users[email] == "SHA-1:"+hex.EncodeToString(sum[:])
}

func parseForm(b []byte) (map[string]string, error) {
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, err
	}
	return map[string]string{"grant_type": v.Get("grant_type"), "assertion": v.Get("assertion")}, nil
}

// setup starts the fake and writes a service account key file for it.
func setup(t *testing.T) (*fakeGoogle, workspace.Config) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	g := &fakeGoogle{pub: &key.PublicKey, tokens: map[string]bool{}, users: map[string]string{"alice@corp.example": ""}}
	g.srv = httptest.NewServer(g)
	t.Cleanup(g.srv.Close)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	kf, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": saEmail,
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "token_uri": g.srv.URL + "/token"})
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, kf, 0o600); err != nil {
		t.Fatal(err)
	}
	return g, workspace.Config{Name: "gws", Label: "Google Workspace", KeyFile: path, Subject: admin,
		Match: directory.ByLogin, Domain: "corp.example", API: g.srv.URL, AllowLoopbackHTTP: true}
}

func open(t *testing.T, c workspace.Config) fanout.Target {
	t.Helper()
	tg, err := c.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func push(tg fanout.Target, login, pw string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return tg.Push(ctx, fanout.Request{Ref: "REF-GWS", User: directory.User{Login: login}, Password: secret.New(pw)})
}

func TestUsersUpdateSetsTheHashedPassword(t *testing.T) {
	g, c := setup(t)
	tg := open(t, c)
	const pw = "Workspace-Fanout-Pw-81"
	start := time.Now()
	if err := push(tg, "alice", pw); err != nil {
		t.Fatal(err)
	}
	t.Logf("first push (token + users.update): %s", time.Since(start))
	if !g.signIn("alice@corp.example", pw) || g.signIn("alice@corp.example", "other") {
		t.Fatal("the fake does not hold the new password's hash")
	}
	// A second push reuses the access token.
	start = time.Now()
	if err := push(tg, "alice", pw+"x"); err != nil || g.tokenReq != 1 {
		t.Fatalf("second push: %v, %d token requests", err, g.tokenReq)
	}
	t.Logf("second push (cached token): %s", time.Since(start))
	for i, r := range g.raw {
		if bytes.Contains(r, []byte(pw)) {
			t.Fatalf("request %d carries the password in clear", i)
		}
	}
}

func TestFailures(t *testing.T) {
	g, c := setup(t)
	tg := open(t, c)
	if err := push(tg, "nobody", "Nobody-Passw0rd-1"); !errors.Is(err, fanout.ErrPermanent) {
		t.Errorf("unknown user: %v, want permanent", err)
	}
	g.mu.Lock()
	g.down = 1
	g.mu.Unlock()
	if err := push(tg, "alice", "Down-Passw0rd-22"); err == nil || errors.Is(err, fanout.ErrPermanent) {
		t.Errorf("503: %v, want retryable", err)
	}
	// A revoked token is replaced once.
	g.mu.Lock()
	g.tokens = map[string]bool{}
	g.mu.Unlock()
	if err := push(tg, "alice", "Revoked-Passw0rd-3"); err != nil || !g.signIn("alice@corp.example", "Revoked-Passw0rd-3") {
		t.Errorf("after revocation: %v", err)
	}
	// A service account whose key Google does not know is refused for good.
	_, other := setup(t)
	other.API = c.API
	kb, _ := os.ReadFile(other.KeyFile)
	var kf map[string]string
	_ = json.Unmarshal(kb, &kf)
	kf["token_uri"] = g.srv.URL + "/token"
	kb, _ = json.Marshal(kf)
	_ = os.WriteFile(other.KeyFile, kb, 0o600)
	if err := push(open(t, other), "alice", "Wrong-Key-Passw0rd-4"); !errors.Is(err, fanout.ErrPermanent) {
		t.Errorf("foreign key: %v, want permanent", err)
	}
	g.srv.Close()
	if err := push(tg, "alice", "Closed-Passw0rd-5"); err == nil || errors.Is(err, fanout.ErrPermanent) {
		t.Errorf("unreachable: %v, want retryable", err)
	}
}

func TestConstraintsAndValidate(t *testing.T) {
	_, c := setup(t)
	tg := open(t, c)
	if cs := tg.Constraints(); cs.MinLength != 8 || cs.MaxLength != 100 {
		t.Fatalf("constraints %+v", cs)
	}
	bad := c
	bad.KeyFile, bad.Subject, bad.Match, bad.API = "/nonexistent", "admin", directory.ByLogin, "http://example.com"
	bad.Domain = ""
	err := bad.Validate()
	for _, want := range []string{"key_file", "subject", "match", "api"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not mention %s: %v", want, err)
		}
	}
}
