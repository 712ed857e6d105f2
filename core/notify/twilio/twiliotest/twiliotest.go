// Package twiliotest is a fake Twilio for tests: an httptest server speaking
// the REST wire format of the Messages, Calls and Verify APIs (it records what
// was sent), a transport that sends twilio-go's hard-coded hosts to it, and a
// webhook signer (twilio-go has none). It is never reachable from a
// production configuration.
package twiliotest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Fake credentials; twilio-go refuses non-alphanumeric ones.
const (
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	AuthToken  = "authtoken0123456789"
	VerifySID  = "VA0123456789abcdef0123456789abcdef"
)

// Message is one SMS the fake accepted.
type Message struct{ To, From, Body string }

// Call is one outbound call the fake accepted.
type Call struct{ To, From, Twiml string }

// Verification is one Verify request the fake accepted.
type Verification struct{ To, Channel, CustomCode, Locale string }

// Server is the fake Twilio REST API.
type Server struct {
	*httptest.Server
	mu            sync.Mutex
	messages      []Message
	calls         []Call
	verifications []Verification
	fail          int
	seq           int
}

// New starts a fake and stops it when the test ends.
func New(t testing.TB) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Fail makes every following request answer status (0 restores success).
func (s *Server) Fail(status int) { s.mu.Lock(); s.fail = status; s.mu.Unlock() }

// Messages returns the SMS accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Calls returns the calls accepted so far.
func (s *Server) Calls() []Call { s.mu.Lock(); defer s.mu.Unlock(); return slices.Clone(s.calls) }

// Verifications returns the Verify requests accepted so far.
func (s *Server) Verifications() []Verification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.verifications)
}

// Sends is the number of SMS, calls and verifications accepted.
func (s *Server) Sends() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages) + len(s.calls) + len(s.verifications)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != AccountSID || pass != AuthToken {
		writeErr(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeErr(w, http.StatusBadRequest, 21000, "bad form")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != 0 {
		writeErr(w, s.fail, 20500, "fake failure for +15555550101")
		return
	}
	s.seq++
	f := r.PostForm.Get
	acct := "/2010-04-01/Accounts/" + AccountSID
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == acct+"/Messages.json":
		s.messages = append(s.messages, Message{To: f("To"), From: f("From"), Body: f("Body")})
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"SM%032d","status":"queued","account_sid":%q}`, s.seq, AccountSID)
	case r.Method == http.MethodPost && r.URL.Path == acct+"/Calls.json":
		s.calls = append(s.calls, Call{To: f("To"), From: f("From"), Twiml: f("Twiml")})
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"CA%032d","status":"queued","account_sid":%q}`, s.seq, AccountSID)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v2/Services/") &&
		strings.HasSuffix(r.URL.Path, "/Verifications"):
		s.verifications = append(s.verifications, Verification{To: f("To"), Channel: f("Channel"),
			CustomCode: f("CustomCode"), Locale: f("Locale")})
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"VE%032d","status":"pending"}`, s.seq)
	default:
		writeErr(w, http.StatusNotFound, 20404, "not found")
	}
}

func writeErr(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"message":%q,"status":%d}`, code, msg, status)
}

// Transport sends every request to the fake, keeping path and query: the
// REST hosts (api.twilio.com, verify.twilio.com) are hard-coded in twilio-go.
func (s *Server) Transport() http.RoundTripper {
	target, _ := url.Parse(s.URL)
	return rewrite{target: target, next: http.DefaultTransport}
}

type rewrite struct {
	target *url.URL
	next   http.RoundTripper
}

func (t rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.target.Scheme, t.target.Host, t.target.Host
	return t.next.RoundTrip(r)
}

// Sign computes X-Twilio-Signature for a POST of params to fullURL:
// base64(HMAC-SHA1(token, URL + sorted key/value pairs)).
func Sign(token, fullURL string, params url.Values) string {
	s := fullURL
	for _, k := range slices.Sorted(maps.Keys(params)) {
		for _, v := range params[k] {
			s += k + v
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Request builds a signed webhook POST: signedURL is what the signature
// covers (the public URL), target what the request is sent to (a path on
// the handler under test).
func Request(token, signedURL, target string, params url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(params.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", Sign(token, signedURL, params))
	return r
}
