package teams

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Authentication failures. They are returned wrapped; callers answer 401 or
// 403 and log the reason, never the token.
var (
	// ErrNoToken means the Authorization header is missing or not a bearer token.
	ErrNoToken = errors.New("teams: no bearer token")
	// ErrBadToken means the signature, algorithm, issuer, audience or lifetime is wrong.
	ErrBadToken = errors.New("teams: invalid token")
	// ErrUnknownKey means the token's key ID is not in the JWKS, even after a refresh.
	ErrUnknownKey = errors.New("teams: unknown signing key")
	// ErrServiceURL means the token's serviceurl claim does not match the activity.
	ErrServiceURL = errors.New("teams: serviceurl claim does not match the activity")
	// ErrEndorsement means the signing key is not endorsed for the activity's channel.
	ErrEndorsement = errors.New("teams: signing key not endorsed for this channel")
	// ErrKeys means the OpenID metadata or the JWKS could not be fetched.
	ErrKeys = errors.New("teams: signing keys unavailable")
)

const (
	maxKeysBody = 1 << 20
	// clockSkew tolerates clocks that disagree a little (Microsoft's SDKs use 5 min).
	clockSkew = 5 * time.Minute
	// failedBackoff spaces fetches while the metadata endpoint is down.
	failedBackoff = 5 * time.Second
)

// ValidatorOptions configure a Validator.
type ValidatorOptions struct {
	// MetadataURL is the OpenID configuration document (jwks_uri).
	MetadataURL string
	// Issuer and AppID are the required "iss" and "aud".
	Issuer string
	AppID  string
	// HTTP fetches metadata and keys; it must have a timeout.
	HTTP *http.Client
	// Clock defaults to time.Now.
	Clock func() time.Time
	// KeysTTL is how long fetched keys are used before a routine refresh (default 24h).
	KeysTTL time.Duration
	// MinRefresh rate-limits refreshes caused by unknown key IDs (default 1 min).
	MinRefresh time.Duration
}

// Validator checks Bot Framework bearer tokens (channel → bot). It caches the
// signing keys, refreshes them when a token names an unknown key ID (Microsoft
// rotates keys), and is safe for concurrent use.
type Validator struct {
	opt ValidatorOptions

	mu      sync.RWMutex
	keys    map[string]signingKey
	fetched time.Time // last successful fetch
	tried   time.Time // last fetch caused by an unknown kid
	failed  time.Time // last failed fetch

	fetchMu sync.Mutex // one fetch at a time
}

type signingKey struct {
	pub          *rsa.PublicKey
	endorsements []string
}

// Claims is what a verified token asserts. Check binds it to the activity.
type Claims struct {
	// ServiceURL is the token's "serviceurl" claim.
	ServiceURL string
	// Endorsements are the channels the signing key is endorsed for.
	Endorsements []string
}

// NewValidator returns a validator. AppID must not be empty: an empty
// audience would make any Bot Framework token acceptable.
func NewValidator(opt ValidatorOptions) (*Validator, error) {
	if opt.AppID == "" {
		return nil, errors.New("teams: app ID is required for token validation")
	}
	if opt.MetadataURL == "" || opt.Issuer == "" {
		return nil, errors.New("teams: metadata URL and issuer are required")
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.KeysTTL <= 0 {
		opt.KeysTTL = 24 * time.Hour
	}
	if opt.MinRefresh <= 0 {
		opt.MinRefresh = time.Minute
	}
	return &Validator{opt: opt}, nil
}

// Authenticate verifies the Authorization header's bearer token: RS256 only,
// a key from the configured JWKS (jku, x5u and jwk headers are ignored),
// issuer, audience = app ID, expiry and not-before within a small skew.
func (v *Validator) Authenticate(ctx context.Context, authorization string) (Claims, error) {
	raw, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || raw == "" || len(raw) > 16<<10 {
		return Claims{}, ErrNoToken
	}
	var key signingKey
	keyFunc := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := v.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		key = k
		return k.pub, nil
	}
	tok, err := jwt.Parse(raw, keyFunc,
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(v.opt.Issuer),
		jwt.WithAudience(v.opt.AppID),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(clockSkew),
		jwt.WithTimeFunc(v.opt.Clock),
	)
	if err != nil {
		for _, e := range []error{ErrUnknownKey, ErrKeys} {
			if errors.Is(err, e) {
				return Claims{}, e
			}
		}
		return Claims{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	mc, _ := tok.Claims.(jwt.MapClaims)
	su, _ := mc["serviceurl"].(string)
	return Claims{ServiceURL: su, Endorsements: key.endorsements}, nil
}

// Check binds verified claims to the parsed activity: the serviceurl claim
// must equal the activity's serviceUrl (so a token for one service URL cannot
// send the bot's replies elsewhere), and the key must be endorsed for the
// activity's channel.
func (c Claims) Check(serviceURL, channelID string) error {
	if c.ServiceURL == "" || !sameServiceURL(c.ServiceURL, serviceURL) {
		return ErrServiceURL
	}
	if channelID == "" || !slices.Contains(c.Endorsements, channelID) {
		return ErrEndorsement
	}
	return nil
}

func sameServiceURL(a, b string) bool {
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}

// key returns the signing key for kid, fetching the JWKS when the cache is
// empty or old, or when kid is unknown (rate-limited by MinRefresh).
func (v *Validator) key(ctx context.Context, kid string) (signingKey, error) {
	if kid == "" {
		return signingKey{}, ErrUnknownKey
	}
	now := v.opt.Clock()
	v.mu.RLock()
	k, ok := v.keys[kid]
	loaded := v.keys != nil
	fresh := loaded && now.Sub(v.fetched) < v.opt.KeysTTL
	v.mu.RUnlock()
	if ok && fresh {
		return k, nil
	}
	if err := v.refresh(ctx, loaded && !ok); err != nil && !ok {
		return signingKey{}, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	return signingKey{}, ErrUnknownKey
}

// refresh fetches the metadata and the JWKS. An unknown kid refreshes at most
// once per MinRefresh so that tokens with random key IDs cannot make the bot
// hammer the metadata endpoint.
func (v *Validator) refresh(ctx context.Context, unknownKid bool) error {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	now := v.opt.Clock()
	v.mu.RLock()
	fresh := v.keys != nil && now.Sub(v.fetched) < v.opt.KeysTTL
	recent := now.Sub(v.tried) < v.opt.MinRefresh
	failing := now.Sub(v.failed) < failedBackoff
	v.mu.RUnlock()
	if fresh && (!unknownKid || recent) {
		return nil // someone else refreshed, or we refreshed a moment ago
	}
	if failing {
		return fmt.Errorf("%w: endpoint failed moments ago", ErrKeys)
	}
	if unknownKid {
		v.mu.Lock()
		v.tried = now
		v.mu.Unlock()
	}
	// The fetch is shared by every waiting request: it must not die with the
	// request that happened to start it (a client that hangs up could
	// otherwise keep a rotated key out).
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	keys, err := v.fetch(fctx)
	if err != nil {
		v.mu.Lock()
		v.failed = now
		v.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrKeys, err)
	}
	v.mu.Lock()
	v.keys, v.fetched = keys, now
	v.mu.Unlock()
	return nil
}

func (v *Validator) fetch(ctx context.Context) (map[string]signingKey, error) {
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(ctx, v.opt.HTTP, v.opt.MetadataURL, &meta); err != nil {
		return nil, fmt.Errorf("openid metadata: %w", err)
	}
	if !strings.HasPrefix(meta.JWKSURI, "https://") && !strings.HasPrefix(meta.JWKSURI, "http://") {
		return nil, errors.New("openid metadata: no usable jwks_uri")
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := getJSON(ctx, v.opt.HTTP, meta.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys := make(map[string]signingKey, len(set.Keys))
	for _, k := range set.Keys {
		pub, err := k.rsa()
		if err != nil || k.Kid == "" {
			continue // not a usable RSA signing key
		}
		keys[k.Kid] = signingKey{pub: pub, endorsements: k.Endorsements}
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks: no RSA keys")
	}
	return keys, nil
}

// jwk is one JSON Web Key as the Bot Framework publishes it, with its
// channel endorsements.
type jwk struct {
	Kty          string   `json:"kty"`
	Kid          string   `json:"kid"`
	Use          string   `json:"use"`
	N            string   `json:"n"`
	E            string   `json:"e"`
	Endorsements []string `json:"endorsements"`
}

func (k jwk) rsa() (*rsa.PublicKey, error) {
	if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
		return nil, errors.New("not an RSA signing key")
	}
	n, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "="))
	if err != nil || len(n) < 256 {
		return nil, errors.New("bad modulus")
	}
	e, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.E, "="))
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("bad exponent")
	}
	exp := int(new(big.Int).SetBytes(e).Int64())
	if exp < 3 || exp%2 == 0 {
		return nil, errors.New("bad exponent")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
}

func getJSON(ctx context.Context, hc *http.Client, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxKeysBody))
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, maxKeysBody)).Decode(into)
}
