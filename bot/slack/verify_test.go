package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sigOver is Slack's signature of body at the timestamp text ts, computed
// here without the code under test.
func sigOver(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// TestVerify pins what the signature check accepts: the exact lower-case
// v0 signature over the timestamp text as sent, and nothing else, however
// its keyed states are reused.
func TestVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"type":"event_callback"}`)
	good := sigOver(testSecret, ts, body)
	hdr := func(ts, sig string) http.Header {
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", sig)
		return h
	}
	for _, tc := range []struct {
		name    string
		h       http.Header
		body    []byte
		secret  string
		wantErr error
	}{
		{"good", hdr(ts, good), body, testSecret, nil},
		{"good again (reused state)", hdr(ts, good), body, testSecret, nil},
		{"other secret", hdr(ts, good), body, "other", errBadSig},
		{"good after another secret", hdr(ts, good), body, testSecret, nil},
		{"upper-case hex", hdr(ts, "v0="+strings.ToUpper(good[3:])), body, testSecret, errBadSig},
		{"v1", hdr(ts, "v1="+good[3:]), body, testSecret, errBadSig},
		{"short", hdr(ts, good[:len(good)-1]), body, testSecret, errBadSig},
		{"long", hdr(ts, good+"0"), body, testSecret, errBadSig},
		{"other body", hdr(ts, good), []byte(`{}`), testSecret, errBadSig},
		{"empty body", hdr(ts, sigOver(testSecret, ts, nil)), nil, testSecret, nil},
		{"padded timestamp", hdr("000"+ts, sigOver(testSecret, "000"+ts, body)), body, testSecret, nil},
		{"padded timestamp, signed unpadded", hdr("000"+ts, good), body, testSecret, errBadSig},
		{"long padded timestamp", hdr(strings.Repeat("0", 2000)+ts, sigOver(testSecret, strings.Repeat("0", 2000)+ts, body)), body, testSecret, nil},
		{"good after a long timestamp", hdr(ts, good), body, testSecret, nil},
		{"stale", hdr("1", sigOver(testSecret, "1", body)), body, testSecret, errStale},
		{"no signature", hdr(ts, ""), body, testSecret, errMissingSig},
		{"bad timestamp", hdr("x", good), body, testSecret, errMissingSig},
	} {
		if err := verify(tc.h, tc.body, tc.secret, now); err != tc.wantErr { //nolint:errorlint // verify returns its sentinels
			t.Errorf("%s: %v, want %v", tc.name, err, tc.wantErr)
		}
	}
	// Concurrent checks with two secrets never see each other's state.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			secret := []string{testSecret, "other"}[i%2]
			for range 200 {
				b := []byte(`{"n":` + strconv.Itoa(i) + `}`)
				if err := verify(hdr(ts, sigOver(secret, ts, b)), b, secret, now); err != nil {
					t.Errorf("concurrent %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestIsMediaType: the exact type is accepted without parsing; anything
// else is what mime.ParseMediaType makes of it.
func TestIsMediaType(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json":                true,
		"application/json; charset=utf-8": true,
		"Application/JSON":                true,
		"application/jsonx":               false,
		"application/json;":               true,
		"text/plain":                      false,
		"":                                false,
		"application/json; charset=\"":    false,
	} {
		if got := isMediaType(ct, "application/json"); got != want {
			t.Errorf("%q: %v, want %v", ct, got, want)
		}
	}
}
