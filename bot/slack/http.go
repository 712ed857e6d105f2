package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"mime"
	"net/http"
	"strconv"
	"sync"
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

// sigLen is the length of a v0 signature: "v0=" and a hex SHA-256.
const sigLen = len("v0=") + 2*sha256.Size

// verify checks X-Slack-Signature over "v0:timestamp:body" in constant time
// and refuses timestamps more than five minutes from now. It runs before any
// parsing, including url_verification.
func verify(h http.Header, body []byte, secret string, now time.Time) error {
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
	if len(sig) != sigLen {
		// What hmac.Equal answers for any other length, at once.
		return errBadSig
	}
	m := getMAC(secret)
	defer putMAC(m)
	b := append(m.buf[:0], "v0:"...)
	b = append(b, ts...)
	b = append(b, ':')
	m.mac.Write(b)
	m.mac.Write(body)
	// The buffer then holds the digest, "v0=" and its hex (what Slack
	// sends), and a copy of the signature to compare with it.
	b = m.mac.Sum(b[:0])
	b = append(b, "v0="...)
	b = hex.AppendEncode(b, b[:sha256.Size])
	b = append(b, sig...)
	m.buf = b
	want, got := b[sha256.Size:sha256.Size+sigLen], b[sha256.Size+sigLen:]
	if !hmac.Equal(got, want) {
		return errBadSig
	}
	return nil
}

// macState is an HMAC-SHA256 keyed with a signing secret and the scratch
// space of one verification. hmac.New costs two SHA-256 states and the
// key's pads per request; a keyed state is reset and reused instead.
type macState struct {
	secret string
	mac    hash.Hash
	buf    []byte
}

// macs holds idle keyed states. A state is only used between getMAC and
// putMAC, by one request, and nothing it holds outlives verify.
var macs sync.Pool

// getMAC returns a state keyed with secret, reset to its keyed start.
func getMAC(secret string) *macState {
	if m, ok := macs.Get().(*macState); ok && m.secret == secret {
		m.mac.Reset()
		return m
	}
	return &macState{secret: secret, mac: hmac.New(sha256.New, []byte(secret)), buf: make([]byte, 0, 256)}
}

// putMAC returns m to the pool, unless an oversized timestamp grew its
// buffer (ParseInt takes any number of leading zeros).
func putMAC(m *macState) {
	if cap(m.buf) > 1024 {
		return
	}
	macs.Put(m)
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
	if !isMediaType(r.Header.Get("Content-Type"), contentType) {
		http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
		return nil, false
	}
	if err := verify(r.Header, body, b.o.Config.SigningSecret.Reveal(), b.now()); err != nil {
		// Access-control failures are logged with a reason, never the payload.
		b.log.Info("authn.rejected", "reason", err.Error(), "path", r.URL.Path)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// isMediaType reports whether the Content-Type header value ct names the
// media type want (lower case, without parameters). The header Slack sends
// is want exactly, answered without mime.ParseMediaType's map.
func isMediaType(ct, want string) bool {
	if ct == want {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == want
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
	w.Header()["Content-Type"] = valJSON[:1:1]
	_, _ = w.Write(b)
}

// Header values set by every response of their kind, shared rather than
// allocated by Header.Set each time. Nothing writes into them: net/http
// replaces a key's slice or appends to it, and an append to a full slice
// copies it.
var (
	valJSON  = []string{"application/json"}
	valPlain = []string{"text/plain"}
	valOne   = []string{"1"}
)

// busy answers 503 with Retry-After: Slack redelivers later.
func busy(w http.ResponseWriter) {
	w.Header()["Retry-After"] = valOne[:1:1]
	http.Error(w, "busy", http.StatusServiceUnavailable)
}

// AckBudget bounds everything done before Slack is answered (Slack retries
// a request it has not seen answered within 3 s): store calls on the ack
// path (a views.open claim, an agent command) fail rather than overrun it.
const AckBudget = 2500 * time.Millisecond

// ackBudget returns the request's context bounded by AckBudget. Handlers
// pass it on rather than a copy of the request carrying it: nothing that
// reads the request needs the deadline.
func ackBudget(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), AckBudget)
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
	ctx, cancel := ackBudget(r)
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
		w.Header()["Content-Type"] = valPlain[:1:1]
		_, _ = w.Write([]byte(ch))
		return
	}
	if errors.Is(b.onEvent(ctx, ev), errBusy) {
		busy(w)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (b *Bot) serveInteractivity(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := ackBudget(r)
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
	resp, after, err := b.onInteraction(ctx, ic)
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
	ctx, cancel := ackBudget(r)
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
	resp, err := b.onCommand(ctx, cmd)
	if errors.Is(err, errBusy) {
		busy(w)
		return
	}
	writeJSON(w, resp)
}
