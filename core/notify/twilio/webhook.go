package twilio

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/resetbot/resetbot/core/secret"
)

// MaxWebhookBytes bounds a Twilio webhook body; real ones are a few KiB.
const MaxWebhookBytes = 64 << 10

// WebhookAuth authenticates Twilio webhooks before anything reads their
// fields. It is safe for concurrent use.
type WebhookAuth struct {
	publicURL  string
	accountSID string
	sig        *signer
	log        *slog.Logger
	// OnReject, when set, is called once per refused request with a short
	// reason (for the authn.rejected audit event).
	OnReject func(r *http.Request, reason string)
}

// NewWebhookAuth checks signatures made with authToken over publicURL (the
// base URL Twilio is configured with) and requires accountSID in every body.
func NewWebhookAuth(publicURL, accountSID string, authToken secret.String, log *slog.Logger) *WebhookAuth {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &WebhookAuth{publicURL: strings.TrimRight(publicURL, "/"), accountSID: accountSID,
		sig: newSigner(strings.TrimRight(publicURL, "/"), authToken.Reveal()), log: log}
}

// URL returns the public URL of path (which may carry a query).
func (a *WebhookAuth) URL(path string) string { return a.publicURL + path }

// Form reads and authenticates a webhook and returns its form fields. When
// the request is refused it has answered already (403, 400 or 413) and ok
// is false.
//
// The signature covers the public URL from configuration plus the request
// URI, never the Host header or X-Forwarded-*: behind a TLS-terminating proxy
// those are whatever the client or proxy says. No field is read before the
// signature over the URL and the sorted fields holds; a key sent twice is refused, because the signature covers only the first
// value of a repeated key. The AccountSid must be ours, so a signature made
// for another account (same token reused) does not pass.
func (a *WebhookAuth) Form(w http.ResponseWriter, r *http.Request) (form url.Values, ok bool) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "cannot read request body", http.StatusBadRequest)
		}
		return nil, false
	}
	// The form is parsed before the signature is checked because the
	// signature covers its sorted fields; nothing reads a field before the
	// check passes.
	query := r.URL.Query()
	sig := r.Header.Get("X-Twilio-Signature")
	form, err = url.ParseQuery(string(body))
	if sig == "" || query.Has("bodySHA256") || err != nil || !a.sig.valid(r.URL.RequestURI(), form, sig) {
		a.reject(w, r, http.StatusForbidden, "signature")
		return nil, false
	}
	for _, vs := range form {
		if len(vs) != 1 {
			a.reject(w, r, http.StatusBadRequest, "repeated_key")
			return nil, false
		}
	}
	for _, vs := range query {
		if len(vs) != 1 {
			a.reject(w, r, http.StatusBadRequest, "repeated_key")
			return nil, false
		}
	}
	if form.Get("AccountSid") != a.accountSID {
		a.reject(w, r, http.StatusForbidden, "account")
		return nil, false
	}
	return form, true
}

func (a *WebhookAuth) reject(w http.ResponseWriter, r *http.Request, status int, reason string) {
	// Log the route and the reason only: never the body.
	a.log.Warn("twilio webhook refused", "path", r.URL.Path, "reason", reason)
	if a.OnReject != nil {
		a.OnReject(r, reason)
	}
	http.Error(w, http.StatusText(status), status)
}
