package teams

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestValidator(t *testing.T, f *fakeBF, clk *fakeClock) *Validator {
	t.Helper()
	v, err := NewValidator(ValidatorOptions{MetadataURL: f.srv.URL + "/v1/.well-known/openidconfiguration",
		Issuer: testIssuer, AppID: testAppID, HTTP: &http.Client{Timeout: 5 * time.Second}, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidatorRequiresAppID(t *testing.T) {
	if _, err := NewValidator(ValidatorOptions{MetadataURL: "https://x", Issuer: testIssuer}); err == nil {
		t.Fatal("an empty app ID was accepted")
	}
}

// TestValidatorRefresh: keys are refreshed after their TTL and, for an
// unknown kid, at most once per MinRefresh.
func TestValidatorRefresh(t *testing.T) {
	f := newFakeBF(t)
	clk := &fakeClock{t: time.Now()}
	v := newTestValidator(t, f, clk)
	keys := testKeys(t)
	tok := func(k int, kid string) string {
		c := f.tokenClaims(f.srv.URL)
		c["exp"] = clk.now().Add(time.Hour).Unix()
		c["nbf"] = clk.now().Add(-time.Minute).Unix()
		return "Bearer " + sign(t, keys[k], kid, c)
	}
	ctx := context.Background()
	if _, err := v.Authenticate(ctx, tok(0, "kid-1")); err != nil {
		t.Fatal(err)
	}
	f.rotate("kid-2", keys[1])
	if _, err := v.Authenticate(ctx, tok(1, "kid-2")); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	f.rotate("kid-3", keys[2])
	if _, err := v.Authenticate(ctx, tok(2, "kid-3")); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("second rotation within MinRefresh: %v, want ErrUnknownKey", err)
	}
	clk.add(2 * time.Minute)
	if _, err := v.Authenticate(ctx, tok(2, "kid-3")); err != nil {
		t.Fatalf("after MinRefresh: %v", err)
	}
	n := f.jwksCalls.Load()
	clk.add(25 * time.Hour)
	if _, err := v.Authenticate(ctx, tok(2, "kid-3")); err != nil || f.jwksCalls.Load() != n+1 {
		t.Fatalf("TTL refresh: %v, fetches %d", err, f.jwksCalls.Load()-n)
	}
}

// TestValidatorKeysDown: with no keys and the metadata endpoint down, the
// answer is ErrKeys (503 upstream), and repeated requests are spaced.
func TestValidatorKeysDown(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	v, err := NewValidator(ValidatorOptions{MetadataURL: closedURL(t) + "/meta", Issuer: testIssuer, AppID: testAppID, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeBF(t)
	bearer := "Bearer " + sign(t, testKeys(t)[0], "kid-1", f.tokenClaims(f.srv.URL))
	for range 3 {
		if _, err := v.Authenticate(context.Background(), bearer); !errors.Is(err, ErrKeys) {
			t.Fatalf("got %v, want ErrKeys", err)
		}
	}
}

// TestValidatorConcurrent runs many validations during key rotations; run
// with -race.
func TestValidatorConcurrent(t *testing.T) {
	f := newFakeBF(t)
	clk := &fakeClock{t: time.Now()}
	v := newTestValidator(t, f, clk)
	keys := testKeys(t)
	good := "Bearer " + sign(t, keys[0], "kid-1", f.tokenClaims(f.srv.URL))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 10 {
				if i == 0 && j == 5 {
					clk.add(2 * time.Minute)
				}
				_, _ = v.Authenticate(context.Background(), good)
				_, _ = v.Authenticate(context.Background(), "Bearer "+sign(t, keys[1], "kid-x", f.tokenClaims(f.srv.URL)))
			}
		})
	}
	wg.Wait()
	if _, err := v.Authenticate(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	if n := f.jwksCalls.Load(); n > 3 {
		t.Errorf("%d JWKS fetches for 320 validations", n)
	}
}

func TestClaimsCheck(t *testing.T) {
	c := Claims{ServiceURL: "https://smba.trafficmanager.net/amer/", Endorsements: []string{"msteams"}}
	tests := []struct {
		name, url, channel string
		want               error
	}{
		{"ok", "https://smba.trafficmanager.net/amer/", "msteams", nil},
		{"trailing slash", "https://smba.trafficmanager.net/amer", "msteams", nil},
		{"other url", "https://smba.trafficmanager.net/emea/", "msteams", ErrServiceURL},
		{"other channel", "https://smba.trafficmanager.net/amer/", "webchat", ErrEndorsement},
		{"no channel", "https://smba.trafficmanager.net/amer/", "", ErrEndorsement},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Check(tt.url, tt.channel); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}
