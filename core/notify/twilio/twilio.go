// Package twilio delivers one-time codes, passphrases and notices through
// Twilio: SMS with the Programmable Messaging API or the Verify API, and a
// voice call that reads a code digit by digit, twice, only after the person
// who answered pressed 1 (so a voicemail greeting never records it).
//
// Every send passes a toll-fraud guard first (Guard): the destination's
// country must be on the allow-list and an hourly provider budget, shared by
// replicas through the store, must have room. The regulation send budgets
// (per destination, per user, global) are checked by the flows before a code
// is issued; the Guard is the last line that also covers passphrases and
// notices.
//
// twilio-go's REST calls take no context: each runs on an http.Client bounded
// by Config.Timeout, in a goroutine the caller's ctx can abandon. Errors
// never carry the message body or Twilio's error text (which may echo the
// destination).
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"

	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// SMS APIs.
const (
	APIMessages = "messages"
	APIVerify   = "verify"
)

// Errors returned by the senders (wrapped).
var (
	// ErrCountryNotAllowed means the destination is outside the allow-list.
	ErrCountryNotAllowed = errors.New("twilio: destination country not allowed")
	// ErrBudget means the hourly provider budget is spent.
	ErrBudget = errors.New("twilio: hourly send budget spent")
	// ErrProvider means Twilio refused the request or could not be reached.
	ErrProvider = errors.New("twilio: provider error")
)

// Renderer renders catalogued messages (core/messages.Catalog).
type Renderer interface {
	Text(locale, id string, voice bool, args map[string]string) string
	// Voice returns the Twilio <Say> voice and its language tag for locale,
	// from the locale's catalog file.
	Voice(locale string) (voice, language string)
}

// Config configures a Client.
type Config struct {
	AccountSID string
	AuthToken  secret.String
	// From is the E.164 number SMS and calls come from.
	From string
	// API is APIMessages (default) or APIVerify for codes by SMS.
	API              string
	VerifyServiceSID string
	// AllowedPrefixes are E.164 prefixes destinations must start with.
	// Empty allows only From's country.
	AllowedPrefixes []string
	// MaxPerHour is the provider budget per clock hour (default 500).
	MaxPerHour int
	// Timeout bounds each REST call (default 10s).
	Timeout time.Duration
	// PublicURL is the public base URL Twilio calls back (the code call's
	// "press 1" action).
	PublicURL string
	// Store counts the budget and holds voice codes (encrypted) until the
	// callee presses 1.
	Store    store.Store
	Messages Renderer
	// BaseURL, when set, sends every REST call to its scheme and host,
	// keeping the path (channels.twilio.api_base_url: an egress proxy).
	BaseURL string
	// Edge and Region pin calls to a Twilio edge and region
	// (channels.twilio.edge, .region); the TWILIO_EDGE and TWILIO_REGION
	// variables are ignored.
	Edge, Region string
	// Transport replaces the HTTP transport (tests point it at a fake).
	Transport http.RoundTripper
	Clock     func() time.Time
	Rand      io.Reader
	Log       *slog.Logger
}

// Client sends through one Twilio account.
type Client struct {
	cfg   Config
	rc    *twilio.RestClient
	guard *Guard
	key   []byte
}

// New checks cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	if cfg.AccountSID == "" || cfg.AuthToken.Empty() || cfg.From == "" {
		return nil, errors.New("twilio: account sid, auth token and from number are required")
	}
	if cfg.Store == nil || cfg.Messages == nil {
		return nil, errors.New("twilio: a store and a message catalog are required")
	}
	if cfg.API == "" {
		cfg.API = APIMessages
	}
	if cfg.API == APIVerify && cfg.VerifyServiceSID == "" {
		return nil, errors.New("twilio: the verify api needs a service sid")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	g, err := NewGuard(cfg.Store, cfg.From, cfg.AllowedPrefixes, cfg.MaxPerHour, cfg.Clock)
	if err != nil {
		return nil, err
	}
	tr := cfg.Transport
	if cfg.BaseURL != "" {
		base, err := url.Parse(cfg.BaseURL)
		if err != nil || base.Host == "" {
			return nil, errors.New("twilio: the api base url must be an absolute URL")
		}
		tr = hostRewrite{scheme: base.Scheme, host: base.Host, next: tr}
	}
	hc := &http.Client{Timeout: cfg.Timeout, Transport: tr,
		// The library's default client does not follow redirects; keep that.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	bc := &client.Client{Credentials: client.NewCredentials(cfg.AccountSID, cfg.AuthToken.Reveal()), HTTPClient: hc}
	bc.SetAccountSid(cfg.AccountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: bc})
	// TWILIO_EDGE / TWILIO_REGION would silently change the hosts we call:
	// only the configuration does.
	rc.SetEdge(cfg.Edge)
	rc.SetRegion(cfg.Region)
	return &Client{cfg: cfg, rc: rc, guard: g, key: CodeKey(cfg.AuthToken)}, nil
}

// Guard returns the client's toll-fraud guard.
func (c *Client) Guard() *Guard { return c.guard }

// CodeKey derives the key that encrypts voice codes waiting for the callee's
// key press. Every replica derives the same key from the shared auth token.
func CodeKey(authToken secret.String) []byte {
	m := hmac.New(sha256.New, []byte(authToken.Reveal()))
	m.Write([]byte("resetbot voice code at rest"))
	return m.Sum(nil)
}

// do runs a REST call, which takes no context, so that ctx can abandon it;
// the call itself ends at the client's timeout.
func do[T any](ctx context.Context, call func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := call()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, providerError(r.err)
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("%w: %w", ErrProvider, ctx.Err())
	}
}

// providerError keeps Twilio's status and code but drops its message, which
// can echo the destination number.
func providerError(err error) error {
	if err == nil {
		return nil
	}
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		return fmt.Errorf("%w: status %d, code %d", ErrProvider, te.Status, te.Code)
	}
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) && ue.Timeout() {
		return fmt.Errorf("%w: timeout", ErrProvider)
	}
	return fmt.Errorf("%w: request failed", ErrProvider)
}

// hostRewrite sends every request to one scheme and host, keeping the path
// and query (the REST hosts are hard-coded in twilio-go).
type hostRewrite struct {
	scheme, host string
	next         http.RoundTripper
}

func (t hostRewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.scheme, t.host, t.host
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}
