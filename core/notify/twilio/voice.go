package twilio

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	api "github.com/twilio/twilio-go/rest/api/v2010"
	"github.com/twilio/twilio-go/twiml"

	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Catalogued messages of the code call.
const (
	MsgCodeGate    = "twilio.code_call.gate"
	MsgCodeGone    = "twilio.code_call.gone"
	MsgCodeGoodbye = "common.goodbye"
)

// CodePath is the route of the code call's "press 1" action.
const CodePath = "/voice/code"

const (
	codeTTL       = 10 * time.Minute
	codeKeyPrefix = "twilio:vcode:"
	// callTimeLimit bounds the cost of a code call (seconds).
	callTimeLimit = 120
	ringTimeout   = 30
)

// Voice returns the Sender for code calls. The call first asks the person to
// press 1 and reads the code (Message.Voice, spelled out and repeated by the
// catalog) only then: an answering machine never records it. Until then the
// spoken text waits in the store, encrypted, for at most ten minutes and is
// taken once.
func (c *Client) Voice() notify.Sender { return notify.SenderFunc(c.call) }

func (c *Client) call(ctx context.Context, m notify.Message) error {
	text := m.Voice
	if text.Empty() {
		text = m.Body
	}
	if text.Empty() || m.To == "" {
		return notify.ErrInvalidMessage
	}
	if c.cfg.PublicURL == "" {
		return errors.New("twilio: code calls need the public URL")
	}
	if err := c.guard.Take(ctx, m.To); err != nil {
		return fmt.Errorf("call refused: %w", err)
	}
	id, err := c.park(ctx, text, m.Locale)
	if err != nil {
		return err
	}
	doc, err := GateTwiML(c.cfg.Messages, m.Locale, c.cfg.PublicURL+CodePath+"?c="+id)
	if err != nil {
		return err
	}
	p := (&api.CreateCallParams{}).SetTo(m.To).SetFrom(c.cfg.From).SetTwiml(doc).
		SetTimeLimit(callTimeLimit).SetTimeout(ringTimeout)
	if _, err := do(ctx, func() (*api.ApiV2010Call, error) { return c.rc.Api.CreateCall(p) }); err != nil {
		_ = c.cfg.Store.Delete(context.WithoutCancel(ctx), codeKeyPrefix+id)
		return fmt.Errorf("code call: %w", err)
	}
	return nil
}

// GateTwiML is the code call's inline TwiML: "press 1 to hear your code",
// said twice inside a one-key Gather whose action is actionURL; silence
// falls through to goodbye and hang up, with no code spoken.
func GateTwiML(msgs Renderer, locale, actionURL string) (string, error) {
	voice, language := msgs.Voice(locale)
	say := func(id string) *twiml.VoiceSay {
		return &twiml.VoiceSay{Message: msgs.Text(locale, id, true, nil), Voice: voice, Language: language}
	}
	gate := say(MsgCodeGate)
	gate.Loop = "2"
	return twiml.Voice([]twiml.Element{
		&twiml.VoiceGather{Input: "dtmf", NumDigits: "1", Timeout: "6", Action: actionURL, Method: http.MethodPost,
			InnerElements: []twiml.Element{gate}},
		say(MsgCodeGoodbye),
		&twiml.VoiceHangup{},
	})
}

type parked struct {
	Locale string `json:"l"`
	Nonce  []byte `json:"n"`
	Box    []byte `json:"b"`
}

// park encrypts the spoken text under a fresh random id.
func (c *Client) park(ctx context.Context, text secret.String, locale string) (string, error) {
	r := c.cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	raw := make([]byte, 16)
	if _, err := io.ReadFull(r, raw); err != nil {
		return "", fmt.Errorf("twilio: code id: %w", err)
	}
	id := hex.EncodeToString(raw)
	gcm, err := newGCM(c.key)
	if err != nil {
		return "", err
	}
	p := parked{Locale: locale, Nonce: make([]byte, gcm.NonceSize())}
	if _, err := io.ReadFull(r, p.Nonce); err != nil {
		return "", fmt.Errorf("twilio: nonce: %w", err)
	}
	p.Box = gcm.Seal(nil, p.Nonce, []byte(text.Reveal()), []byte(id))
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	if _, err := c.cfg.Store.Set(ctx, codeKeyPrefix+id, b, codeTTL); err != nil {
		return "", fmt.Errorf("twilio: park code: %w", err)
	}
	return id, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("twilio: %w", err)
	}
	return cipher.NewGCM(blk)
}

// CodeHandler serves the code call's "press 1" action (POST CodePath). It
// speaks the parked code once, when the key pressed is 1.
type CodeHandler struct {
	Auth     *WebhookAuth
	Store    store.Store
	Key      []byte
	Messages Renderer
	Log      *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h *CodeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form, ok := h.Auth.Form(w, r)
	if !ok {
		return
	}
	id := r.URL.Query().Get("c")
	if raw, err := hex.DecodeString(id); err != nil || len(raw) != 16 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	locale := ""
	var spoken secret.String
	if form.Get("Digits") == "1" {
		rec, err := h.Store.Take(r.Context(), codeKeyPrefix+id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			h.log().Error("code call: parked code unreadable", "err", err)
		default:
			locale, spoken = h.open(id, rec.Value)
		}
	}
	voice, language := h.Messages.Voice(locale)
	var verbs []twiml.Element
	switch {
	case !spoken.Empty():
		verbs = append(verbs, &twiml.VoiceSay{Message: spoken.Reveal(), Voice: voice, Language: language})
	case form.Get("Digits") == "1":
		verbs = append(verbs, &twiml.VoiceSay{Message: h.Messages.Text(locale, MsgCodeGone, true, nil), Voice: voice, Language: language})
	default:
		verbs = append(verbs, &twiml.VoiceSay{Message: h.Messages.Text(locale, MsgCodeGoodbye, true, nil), Voice: voice, Language: language})
	}
	verbs = append(verbs, &twiml.VoiceHangup{})
	doc, err := twiml.Voice(verbs)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = io.WriteString(w, doc)
}

func (h *CodeHandler) open(id string, b []byte) (string, secret.String) {
	var p parked
	if err := json.Unmarshal(b, &p); err != nil {
		h.log().Error("code call: parked code malformed")
		return "", secret.String{}
	}
	gcm, err := newGCM(h.Key)
	if err != nil || len(p.Nonce) != gcm.NonceSize() {
		h.log().Error("code call: cannot decrypt parked code")
		return p.Locale, secret.String{}
	}
	plain, err := gcm.Open(nil, p.Nonce, p.Box, []byte(id))
	if err != nil {
		// A rotated auth token makes codes parked before it unreadable.
		h.log().Error("code call: cannot decrypt parked code")
		return p.Locale, secret.String{}
	}
	return p.Locale, secret.New(string(plain))
}

func (h *CodeHandler) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}
