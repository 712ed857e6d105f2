// Package twilio is resetbot's phone channel: a Twilio Programmable Voice IVR
// driven by keypad digits (DTMF).
//
// Four webhooks (all POST, all authenticated with X-Twilio-Signature over the
// configured public URL before any field is read):
//
//	/voice/incoming   a call arrives: blocked callers hear goodbye; others pick a language
//	/voice/language   the language digit; the engine's menu follows
//	/voice/gather     every later key press (or silence) of the call
//	/voice/status     the call's status callback: a hang-up cancels the session
//
// The session is bound to the CallSid (engine Turn{Channel: "voice",
// ChannelUser: CallSid}). Each <Gather> posts to /voice/gather with a
// sequence number n in its action URL; the turn's DeliveryID is CallSid:n, so
// a retried or replayed gather gets the same TwiML and acts once. Action URLs
// carry only the language, that sequence number and a silence counter: no
// session token, no code.
//
// Replies are rendered as TwiML with twilio-go's twiml package: prompts are
// the catalog's voice variants in <Say> with the language's Polly voice, the
// choices are read as "to do X, press N", a <Gather input="dtmf"> collects
// digits (numDigits for fixed lengths, finishOnKey "#" otherwise), star
// repeats, zero asks for a person and escalated calls are <Dial>ed to the help
// desk. Nothing secret is ever spoken: the voice reset texts a generated
// passphrase (flows' passphrase state) and the code call lives in
// core/notify/twilio.
package twilio

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	notifytwilio "github.com/resetbot/resetbot/core/notify/twilio"
	"github.com/resetbot/resetbot/core/secret"
)

// Channel is the engine channel name of phone calls.
const Channel = "voice"

// Routes of the webhooks.
const (
	PathIncoming = "/voice/incoming"
	PathLanguage = "/voice/language"
	PathGather   = "/voice/gather"
	PathStatus   = "/voice/status"
)

// Engine runs one turn (core/engine.Engine).
type Engine interface {
	Handle(ctx context.Context, t engine.Turn) engine.Reply
}

// Renderer renders catalogued messages (core/messages.Catalog).
type Renderer interface {
	Text(locale, id string, voice bool, args map[string]string) string
	Voice(locale string) (voice, language string)
	// Languages are the catalog languages, the default first.
	Languages() []string
}

// Config configures the IVR.
type Config struct {
	// PublicURL is the base URL the Twilio number's webhooks use; signatures
	// are checked against it.
	PublicURL  string
	AccountSID string
	AuthToken  secret.String
	// HelpDesk is the E.164 number escalated calls are transferred to; empty
	// ends such calls politely instead.
	HelpDesk string
	// Languages offered at the start, first is the default (default: every
	// catalog language, English first).
	Languages []string
	// GatherTimeout is the silence before a re-prompt (default 6s).
	GatherTimeout time.Duration
	// Blocked are E.164 numbers or prefixes whose calls are refused.
	Blocked []string
	// TurnBudget is how long a webhook waits for its turn before answering
	// with a short hold prompt and a redirect that resumes the turn (default
	// DefaultTurnBudget, well inside Twilio's 15 s).
	TurnBudget time.Duration
	Log        *slog.Logger
	Audit      audit.Sink
	// Numbers maps a Twilio number called (the webhook's To, E.164) to the
	// language its callers hear without a language menu.
	Numbers map[string]string
	// Store and CallerKey keep each caller number's language (an HMAC of
	// the number under CallerKey) for LanguageMemory (default
	// DefaultLanguageMemory; negative: nothing is remembered). Without a
	// store or key nothing is remembered.
	Store          LanguageStore
	CallerKey      []byte
	LanguageMemory time.Duration
}

// Deadlines of a voice turn.
const (
	// DefaultTurnBudget is Config.TurnBudget's default.
	DefaultTurnBudget = 8 * time.Second
	// turnLimit bounds a turn that goes on after its webhook was answered
	// with a hold (a stalled directory): the redirect finds its reply.
	turnLimit = 60 * time.Second
)

// Handler serves the IVR webhooks. It is safe for concurrent use.
type Handler struct {
	eng  Engine
	msgs Renderer
	cfg  Config
	auth *notifytwilio.WebhookAuth
	mux  *http.ServeMux
	// held keeps the keys of turns put on hold for the redirect resuming them.
	held heldKeys
	// langs writes remembered call languages off the turns (nil: no memory).
	langs *languageWriter
	// runners run the turns (webhooks.go).
	runners turnRunners
}

// New checks cfg and builds the handler.
func New(eng Engine, msgs Renderer, cfg Config) (*Handler, error) {
	if eng == nil || msgs == nil {
		return nil, errors.New("ivr/twilio: engine and messages are required")
	}
	if !strings.HasPrefix(cfg.PublicURL, "https://") && !strings.HasPrefix(cfg.PublicURL, "http://") {
		return nil, errors.New("ivr/twilio: the public URL is required (signatures cover it)")
	}
	if cfg.AccountSID == "" || cfg.AuthToken.Empty() {
		return nil, errors.New("ivr/twilio: account sid and auth token are required")
	}
	if len(cfg.Languages) == 0 {
		cfg.Languages = msgs.Languages()
	}
	if cfg.TurnBudget <= 0 {
		cfg.TurnBudget = DefaultTurnBudget
	}
	if cfg.GatherTimeout <= 0 {
		cfg.GatherTimeout = 6 * time.Second
	}
	if cfg.LanguageMemory == 0 {
		cfg.LanguageMemory = DefaultLanguageMemory
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.Discard
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	h := &Handler{eng: eng, msgs: msgs, cfg: cfg, mux: http.NewServeMux(), runners: newTurnRunners()}
	if cfg.Store != nil && len(cfg.CallerKey) > 0 && cfg.LanguageMemory > 0 {
		h.langs = newLanguageWriter(cfg.Store, cfg.LanguageMemory, cfg.Log)
	}
	h.auth = notifytwilio.NewWebhookAuth(cfg.PublicURL, cfg.AccountSID, cfg.AuthToken, cfg.Log)
	h.auth.OnReject = func(r *http.Request, reason string) {
		_ = cfg.Audit.Write(r.Context(), audit.Event{Name: audit.NameAuthnRejected, Channel: Channel, Reason: reason})
	}
	for path, fn := range map[string]func(http.ResponseWriter, *http.Request, callParams){
		PathIncoming: h.incoming, PathLanguage: h.language, PathGather: h.gather, PathStatus: h.status,
	} {
		h.mux.Handle(path, h.authed(fn))
	}
	return h, nil
}

// Close writes the call languages still waiting to be remembered and stops
// their writer. The handler keeps serving; later languages are written at
// once.
func (h *Handler) Close() {
	if h.langs != nil {
		h.langs.close()
	}
}

// Paths lists the webhook routes, for mounting on the public server.
func (h *Handler) Paths() []string {
	return []string{PathIncoming, PathLanguage, PathGather, PathStatus}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// callParams are the webhook fields the IVR uses.
type callParams struct {
	CallSid    string
	From       string
	To         string
	Digits     string
	CallStatus string
	hasDigits  bool
}

// authed authenticates the request before anything parses it, then hands the
// few fields we use to fn.
func (h *Handler) authed(fn func(http.ResponseWriter, *http.Request, callParams)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, ok := h.auth.Form(w, r)
		if !ok {
			return
		}
		p := callParams{CallSid: form.Get("CallSid"), From: form.Get("From"), To: form.Get("To"), Digits: form.Get("Digits"),
			CallStatus: form.Get("CallStatus"), hasDigits: form.Has("Digits")}
		if !validSid(p.CallSid) {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		fn(w, r, p)
	})
}

// validSid accepts "CA" followed by up to 32 letters or digits.
func validSid(s string) bool {
	if len(s) < 3 || len(s) > 34 || !strings.HasPrefix(s, "CA") {
		return false
	}
	for _, r := range s[2:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// blocked reports whether the caller is on the blocklist.
func (h *Handler) blocked(from string) bool {
	return slices.ContainsFunc(h.cfg.Blocked, func(p string) bool { return p != "" && strings.HasPrefix(from, p) })
}

// locale returns l when it is a configured or catalog language, else the
// default (the first configured one).
func (h *Handler) locale(l string) string {
	if slices.Contains(h.cfg.Languages, l) || slices.Contains(h.msgs.Languages(), l) {
		return l
	}
	return h.cfg.Languages[0]
}
