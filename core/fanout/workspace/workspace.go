// Package workspace is the Google Workspace fan-out target: the user's
// password is set with the Admin SDK Directory API users.update
// (PUT admin/directory/v1/users/{userKey}), sent as a hash
// ({"password": hex SHA-1, "hashFunction": "SHA-1"}, as documented), never
// in clear. resetbot authenticates as a service account with domain-wide
// delegation: a JWT signed with the account's key (RS256) is exchanged at
// the key's token_uri for an access token (OAuth 2.0 JWT bearer grant, scope
// admin.directory.user), impersonating an administrator (Subject).
package workspace

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // the hash function the Directory API documents for hashed passwords
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/fanout"
)

// Scope is the OAuth scope users.update needs.
const Scope = "https://www.googleapis.com/auth/admin.directory.user"

// DefaultAPI is the Directory API's root.
const DefaultAPI = "https://admin.googleapis.com"

// Config is the Workspace target's block.
type Config struct {
	Name, Label string
	// KeyFile is the service account's JSON key (client_email, private_key, token_uri).
	KeyFile string
	// Subject is the administrator the service account acts for.
	Subject string
	// Match is login (then Domain is appended) or email.
	Match  directory.Key
	Domain string
	// API overrides DefaultAPI (tests); https only unless AllowLoopbackHTTP.
	API               string
	AllowLoopbackHTTP bool
	Constraints       fanout.Constraints
	Client            *http.Client
}

type keyFile struct {
	Type        string `json:"type"`
	ClientEmail string `json:"client_email"`
	PrivateKey  string `json:"private_key"`
	TokenURI    string `json:"token_uri"`
}

// Validate reports every problem with the block.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := c.readKey(); err != nil {
		errs = append(errs, err)
	}
	if !strings.Contains(c.Subject, "@") {
		errs = append(errs, errors.New("subject must be the e-mail address of a Workspace administrator"))
	}
	switch {
	case c.Match == directory.ByEmail:
	case c.Match == directory.ByLogin && c.Domain != "":
	default:
		errs = append(errs, errors.New("match must be email, or login with domain"))
	}
	if c.API != "" {
		if err := c.checkURL(c.API); err != nil {
			errs = append(errs, fmt.Errorf("api: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (c Config) checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return errors.New("must be an absolute https URL")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && c.AllowLoopbackHTTP && (u.Hostname() == "127.0.0.1" || u.Hostname() == "::1" || u.Hostname() == "localhost"):
		return nil
	}
	return errors.New("must be https")
}

func (c Config) readKey() (keyFile, *rsa.PrivateKey, error) {
	var k keyFile
	b, err := os.ReadFile(c.KeyFile)
	if err != nil {
		return k, nil, errors.New("key_file must be the service account's readable JSON key")
	}
	if err := json.Unmarshal(b, &k); err != nil || k.Type != "service_account" || k.ClientEmail == "" {
		return k, nil, errors.New("key_file is not a service account JSON key")
	}
	if err := c.checkURL(k.TokenURI); err != nil {
		return k, nil, fmt.Errorf("key_file token_uri: %w", err)
	}
	blk, _ := pem.Decode([]byte(k.PrivateKey))
	if blk == nil {
		return k, nil, errors.New("key_file private_key is not PEM")
	}
	pk, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	rk, ok := pk.(*rsa.PrivateKey)
	if err != nil || !ok {
		return k, nil, errors.New("key_file private_key is not an RSA PKCS#8 key")
	}
	return k, rk, nil
}

// Open builds the target.
func (c Config) Open(context.Context) (fanout.Target, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	k, rk, _ := c.readKey()
	cl := c.Client
	if cl == nil {
		cl = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	api := c.API
	if api == "" {
		api = DefaultAPI
	}
	return &Target{cfg: c, key: k, rsa: rk, client: cl, api: strings.TrimRight(api, "/"), now: time.Now}, nil
}

// Target sets Workspace passwords.
type Target struct {
	cfg    Config
	key    keyFile
	rsa    *rsa.PrivateKey
	client *http.Client
	api    string
	now    func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

var _ fanout.Target = (*Target)(nil)

// Name implements fanout.Target.
func (t *Target) Name() string { return t.cfg.Name }

// Label implements fanout.Target.
func (t *Target) Label() string { return t.cfg.Label }

// Constraints implements fanout.Target: Workspace passwords are 8 to 100
// characters unless configured stricter.
func (t *Target) Constraints() fanout.Constraints {
	c := t.cfg.Constraints
	c.MinLength = max(c.MinLength, 8)
	if c.MaxLength == 0 || c.MaxLength > 100 {
		c.MaxLength = 100
	}
	return c
}

func (t *Target) userKey(u directory.User) string {
	if t.cfg.Match == directory.ByEmail {
		return u.Email
	}
	if u.Login == "" {
		return ""
	}
	return u.Login + "@" + t.cfg.Domain
}

// Push implements fanout.Target.
func (t *Target) Push(ctx context.Context, r fanout.Request) error {
	key := t.userKey(r.User)
	if key == "" {
		return fmt.Errorf("workspace %s: no %s for the account: %w", t.cfg.Name, t.cfg.Match, fanout.ErrPermanent)
	}
	sum := sha1.Sum([]byte(r.Password.Reveal())) //nolint:gosec // documented hashFunction
	body, _ := json.Marshal(map[string]string{"password": hex.EncodeToString(sum[:]), "hashFunction": "SHA-1"})
	for try := 0; try < 2; try++ {
		tok, err := t.accessToken(ctx)
		if err != nil {
			return err
		}
		code, err := t.put(ctx, key, tok, body)
		if err != nil {
			return err
		}
		switch {
		case code >= 200 && code < 300:
			return nil
		case code == http.StatusUnauthorized && try == 0:
			t.mu.Lock()
			t.token = "" // expired or revoked: fetch a new one once
			t.mu.Unlock()
			continue
		case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
			return fmt.Errorf("workspace %s: users.update: status %d: %w", t.cfg.Name, code, fanout.ErrPermanent)
		default:
			return fmt.Errorf("workspace %s: users.update: status %d", t.cfg.Name, code)
		}
	}
	return fmt.Errorf("workspace %s: users.update: unauthorized: %w", t.cfg.Name, fanout.ErrPermanent)
}

func (t *Target) put(ctx context.Context, userKey, tok string, body []byte) (int, error) {
	u := t.api + "/admin/directory/v1/users/" + url.PathEscape(userKey)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("workspace %s: %w", t.cfg.Name, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("workspace %s: users.update: %w", t.cfg.Name, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// accessToken returns a cached token or exchanges a fresh signed JWT for one.
func (t *Target) accessToken(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if t.token != "" && now.Before(t.expires.Add(-time.Minute)) {
		return t.token, nil
	}
	claims := jwt.MapClaims{"iss": t.key.ClientEmail, "sub": t.cfg.Subject, "scope": Scope,
		"aud": t.key.TokenURI, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(t.rsa)
	if err != nil {
		return "", fmt.Errorf("workspace %s: sign: %w", t.cfg.Name, err)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.key.TokenURI, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("workspace %s: %w", t.cfg.Name, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := t.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("workspace %s: token: %w", t.cfg.Name, err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("workspace %s: token: status %d", t.cfg.Name, resp.StatusCode)
		if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized {
			err = fmt.Errorf("%w (service account or delegation refused): %w", err, fanout.ErrPermanent)
		}
		return "", err
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&tr); err != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("workspace %s: token: bad answer", t.cfg.Name)
	}
	t.token, t.expires = tr.AccessToken, now.Add(time.Duration(tr.ExpiresIn)*time.Second)
	return t.token, nil
}
