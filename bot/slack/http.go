package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/resetbot/resetbot/core/server"
)

// MaxBody caps a Slack request body. Real payloads are a few KiB; the cap is
// applied before the HMAC is computed so a huge body costs nothing.
const MaxBody = 256 << 10

// maxSkew is Slack's replay window for request timestamps.
const maxSkew = 5 * time.Minute

// Signature failures (logged as the reason; the client only sees 401).
var (
	errMissingSig = errors.New("missing signature headers")
	errStale      = errors.New("stale timestamp")
	errBadSig     = errors.New("bad signature")
)

// verify checks X-Slack-Signature over "v0:timestamp:body" in constant time
// and refuses timestamps more than five minutes from now. It runs before any
// parsing, including url_verification.
func verify(h http.Header, body, secret []byte, now time.Time) error {
	ts, sig := h.Get("X-Slack-Request-Timestamp"), h.Get("X-Slack-Signature")
	if ts == "" || sig == "" {
		return errMissingSig
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errMissingSig
	}
	if d := now.Sub(time.Unix(n, 0)); d > maxSkew || d < -maxSkew {
		return errStale
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	want := "v0=" + hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return errBadSig
	}
	return nil
}

// Sign returns the X-Slack-Signature value for body at ts, as Slack computes
// it. Tests and load generators use it; the bot only verifies.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("v0:" + strconv.FormatInt(ts, 10) + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// authenticate reads the bounded body, checks the content type and the
// signature. On failure it has answered the request and returns false.
func (b *Bot) authenticate(w http.ResponseWriter, r *http.Request, contentType string) ([]byte, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	body, ok := server.ReadBody(w, r)
	if !ok {
		b.log.Info("authn.rejected", "reason", "body", "path", r.URL.Path)
		return nil, false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != contentType {
		http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
		return nil, false
	}
	if err := verify(r.Header, body, []byte(b.o.Config.SigningSecret.Reveal()), b.now()); err != nil {
		// Access-control failures are logged with a reason, never the payload.
		b.log.Info("authn.rejected", "reason", err.Error(), "path", r.URL.Path)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// writeJSON answers with v as JSON, or an empty 200 when v is nil.
func writeJSON(w http.ResponseWriter, v any) {
	if v == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, "busy", http.StatusServiceUnavailable)
}

// AckBudget bounds everything done before Slack is answered (Slack retries
// a request it has not seen answered within 3 s): store calls on the ack
// path (a views.open claim, an agent command) fail rather than overrun it.
const AckBudget = 2500 * time.Millisecond

func ackBudget(r *http.Request) (*http.Request, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(r.Context(), AckBudget)
	return r.WithContext(ctx), cancel
}

// overloaded reports, before a request is read, that its turn could not run
// now: the pool is full, or the engine found the store unavailable in the
// last second. The request is answered 503 and Slack redelivers it later,
// instead of an ack followed by an error.
func (b *Bot) overloaded() bool {
	if b.pool.Full() {
		return true
	}
	u, ok := b.o.Engine.(interface{ StoreUp() bool })
	return ok && !u.StoreUp()
}

func (b *Bot) serveEvents(w http.ResponseWriter, r *http.Request) {
	r, cancel := ackBudget(r)
	defer cancel()
	if b.overloaded() {
		busy(w)
		return
	}
	body, ok := b.authenticate(w, r, "application/json")
	if !ok {
		return
	}
	ev, err := parseEvent(body)
	if err != nil {
		b.log.Info("slack event refused", "reason", "malformed")
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if ch, ok := challenge(ev); ok {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(ch))
		return
	}
	if errors.Is(b.onEvent(r.Context(), ev), errBusy) {
		busy(w)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (b *Bot) serveInteractivity(w http.ResponseWriter, r *http.Request) {
	r, cancel := ackBudget(r)
	defer cancel()
	if b.overloaded() {
		busy(w)
		return
	}
	body, ok := b.authenticate(w, r, "application/x-www-form-urlencoded")
	if !ok {
		return
	}
	ic, err := parseInteraction(body)
	if err != nil {
		b.log.Info("slack interaction refused", "reason", "malformed")
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	resp, after, err := b.onInteraction(r.Context(), ic)
	if errors.Is(err, errBusy) {
		busy(w)
		return
	}
	writeJSON(w, resp)
	if after != nil {
		// Ack first, then use the trigger (views.open) within its 3 s life.
		_ = http.NewResponseController(w).Flush()
		after()
	}
}

func (b *Bot) serveCommands(w http.ResponseWriter, r *http.Request) {
	r, cancel := ackBudget(r)
	defer cancel()
	if b.overloaded() {
		busy(w)
		return
	}
	body, ok := b.authenticate(w, r, "application/x-www-form-urlencoded")
	if !ok {
		return
	}
	cmd, err := parseCommand(body)
	if err != nil {
		b.log.Info("slack command refused", "reason", "malformed")
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	resp, err := b.onCommand(r.Context(), cmd)
	if errors.Is(err, errBusy) {
		busy(w)
		return
	}
	writeJSON(w, resp)
}
