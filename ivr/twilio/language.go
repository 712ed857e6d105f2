package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/store"
)

// A call's language comes, strongest first, from: the one language
// configured; the caller's own earlier choice, remembered for the caller's
// number; the language of the Twilio number called (Config.Numbers). Only
// when none is known does the language menu play. On the main menu, nine
// opens the language menu again, so a wrong guess costs one key.
//
// The memory is keyed by an HMAC of the caller number under a key of its
// own (a store dump gives back no number) and holds only a language tag.
// Caller ID can be spoofed: a spoofed number gets at most that number's
// language, never anything about an account.

// DefaultLanguageMemory is Config.LanguageMemory's default.
const DefaultLanguageMemory = 180 * 24 * time.Hour

const (
	// keySwitchLanguage on the main menu opens the language menu.
	keySwitchLanguage = "9"
	// memoryBudget bounds the store look-up of a remembered language: a slow
	// store must not delay answering, the caller hears the menu instead.
	memoryBudget  = time.Second
	langKeyPrefix = "voice:lang:"
)

// LanguageStore is the part of core/store the language memory needs.
type LanguageStore interface {
	Get(ctx context.Context, key string) (store.Record, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) (uint64, error)
}

// incoming answers a new call: blocked callers hear goodbye; a caller whose
// language is known goes straight to the menu, others choose a language.
func (h *Handler) incoming(w http.ResponseWriter, r *http.Request, p callParams) {
	if h.blocked(p.From) {
		// Caller ID can be spoofed, so the blocklist only sheds known abusers;
		// it never grants anything.
		_ = h.cfg.Audit.Write(r.Context(), audit.Event{Name: audit.NameAuthnRejected, Channel: Channel, Reason: "blocked_caller"})
		h.write(w, h.goodbye(h.cfg.Languages[0], "twilio.blocked"))
		return
	}
	if loc, chosen, ok := h.knownLanguage(r.Context(), p); ok {
		h.start(w, r, p, loc, chosen, false)
		return
	}
	h.write(w, h.languageMenu(h.auth.URL(PathLanguage)))
}

// languageMenu is the language gather posting to action: each line in its
// own language.
func (h *Handler) languageMenu(action string) []twiml.Element {
	g := &twiml.VoiceGather{Input: "dtmf", NumDigits: "1", Timeout: h.timeout(), Action: action,
		Method: http.MethodPost, ActionOnEmptyResult: "true"}
	for i, l := range h.cfg.Languages {
		g.InnerElements = append(g.InnerElements, h.say(l, h.msgs.Text(l, "twilio.language", true,
			map[string]string{"digit": strconv.Itoa(i + 1)})))
	}
	return []twiml.Element{g}
}

// language takes the language digit (silence or anything else keeps the
// default), remembers a choice for the caller's number, and starts the
// conversation.
func (h *Handler) language(w http.ResponseWriter, r *http.Request, p callParams) {
	loc := h.cfg.Languages[0]
	if n, err := strconv.Atoi(p.Digits); err == nil && n >= 1 && n <= len(h.cfg.Languages) {
		loc = h.cfg.Languages[n-1]
		h.remember(r.Context(), p.From, loc)
	}
	h.start(w, r, p, loc, true, true)
}

// knownLanguage returns the call's language when the menu can be skipped.
// chosen says it is the caller's own (remembered) choice.
func (h *Handler) knownLanguage(ctx context.Context, p callParams) (loc string, chosen, ok bool) {
	if len(h.cfg.Languages) == 1 {
		return h.cfg.Languages[0], false, true
	}
	if l, ok := h.recall(ctx, p.From); ok {
		return l, true, true
	}
	if l, ok := h.cfg.Numbers[p.To]; ok && h.offered(l) {
		return l, false, true
	}
	return "", false, false
}

// recall returns the language remembered for the caller's number.
func (h *Handler) recall(ctx context.Context, from string) (string, bool) {
	key, ok := h.memoryKey(from)
	if !ok {
		return "", false
	}
	if h.langs != nil {
		if l, ok := h.langs.lookup(key); ok {
			return l, h.offered(l)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, memoryBudget)
	defer cancel()
	rec, err := h.cfg.Store.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if h.langs != nil {
			h.langs.learn(key, "")
		}
		return "", false
	case err != nil:
		h.cfg.Log.Warn("remembered call language not read; the language menu plays", "err", err)
		return "", false
	}
	l := string(rec.Value)
	if h.langs != nil {
		h.langs.learn(key, l)
	}
	return l, h.offered(l)
}

// remember keeps loc for the caller's number for Config.LanguageMemory,
// written behind the turn (langwriter.go). A failure only means the menu
// plays next time.
func (h *Handler) remember(ctx context.Context, from, loc string) {
	key, ok := h.memoryKey(from)
	if !ok || !h.offered(loc) {
		return
	}
	if h.langs != nil {
		h.langs.add(key, loc)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), memoryBudget)
	defer cancel()
	if _, err := h.cfg.Store.Set(ctx, key, []byte(loc), h.cfg.LanguageMemory); err != nil {
		h.cfg.Log.Warn("call language not remembered", "err", err)
	}
}

// memoryKey is the store key of a caller number's language; ok is false
// when there is no memory or no usable number (withheld, not E.164).
func (h *Handler) memoryKey(from string) (string, bool) {
	if h.cfg.Store == nil || len(h.cfg.CallerKey) == 0 || h.cfg.LanguageMemory <= 0 || !e164(from) {
		return "", false
	}
	m := hmac.New(sha256.New, h.cfg.CallerKey)
	m.Write([]byte(from))
	return langKeyPrefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), true
}

// offered reports whether l is one of the call's languages.
func (h *Handler) offered(l string) bool {
	for _, c := range h.cfg.Languages {
		if c == l {
			return true
		}
	}
	return false
}

// e164 reports whether s is "+" and 8 to 15 digits.
func e164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
