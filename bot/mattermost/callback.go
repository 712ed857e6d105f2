package mattermost

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/token"
)

// maxCallback bounds a callback body: a click or a submission of our own
// dialogs is well under 8 KiB.
const maxCallback = 16 << 10

// actionRequest is the part of a button callback (the server's
// PostActionIntegrationRequest) the bot reads.
type actionRequest struct {
	UserID    string `json:"user_id"`
	ChannelID string `json:"channel_id"`
	PostID    string `json:"post_id"`
	TriggerID string `json:"trigger_id"`
	Context   struct {
		Kind  string `json:"k"`
		Token string `json:"t"`
	} `json:"context"`
}

// dialogRequest is a dialog submission. Submission stays raw until the
// state token has been verified: what was typed is not decoded for a
// request that is not ours.
type dialogRequest struct {
	Type       string          `json:"type"`
	CallbackID string          `json:"callback_id"`
	State      string          `json:"state"`
	UserID     string          `json:"user_id"`
	ChannelID  string          `json:"channel_id"`
	Cancelled  bool            `json:"cancelled"`
	Submission json.RawMessage `json:"submission"`
}

// readBody reads a size-limited callback body; false means the request
// was answered (too large, or unreadable).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallback))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "bad request", http.StatusBadRequest)
		}
		return nil, false
	}
	return body, true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// refuse answers a callback whose token failed. An expired token is a
// person's old button or form: they are told, privately. Anything else
// (no token, a forged or altered one, one issued to someone else or for
// another purpose) did not come from a button of ours shown to this
// person: 403, nothing acts.
func (b *Bot) refuse(w http.ResponseWriter, r *http.Request, user string, err error, dialogReq bool) {
	b.log.Info("mattermost callback refused", "reason", err.Error(), "dialog", dialogReq)
	b.rejected(r.Context(), user, tokenReason(err))
	if !errors.Is(err, token.ErrExpired) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	msg := b.text(b.locale(user), msgRefused, nil)
	if dialogReq {
		writeJSON(w, map[string]string{"error": msg})
		return
	}
	writeJSON(w, map[string]string{"ephemeral_text": msg})
}

// tokenReason is the audit reason of a refused token.
func tokenReason(err error) string {
	switch {
	case errors.Is(err, token.ErrExpired):
		return "token_expired"
	case errors.Is(err, token.ErrMismatch):
		return "token_mismatch"
	case errors.Is(err, token.ErrSignature):
		return "token_signature"
	}
	return "token_malformed"
}

// digest names a token or a submission for its one-use claim, under the
// callback key (a submission's digest covers what was typed).
func (b *Bot) digest(parts ...string) string {
	m := hmac.New(sha256.New, []byte(b.o.Config.CallbackKey.Reveal()))
	for _, p := range parts {
		_, _ = m.Write([]byte(p))
		_, _ = m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// serveAction handles a button click relayed by the Mattermost server.
func (b *Bot) serveAction(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req actionRequest
	if json.Unmarshal(body, &req) != nil || !validID(req.UserID) || !validID(req.ChannelID) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	purpose := purposeChoice
	if req.Context.Kind == kindOpen {
		purpose = purposeOpen
	}
	c, err := b.tokens.Verify(req.Context.Token, purpose, userKey(req.UserID, req.ChannelID))
	if err != nil {
		b.refuse(w, r, req.UserID, err, false)
		return
	}
	if req.TriggerID == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	// A click is claimed once by its trigger, a choice button once by its
	// token too: a replayed request, or the same button clicked again,
	// does nothing.
	once := "trg:" + b.digest(req.TriggerID)
	if purpose == purposeChoice {
		once = "tok:" + b.digest(req.Context.Token)
	}
	fresh, err := b.claim(ctx, once, b.o.Config.TokenTTL)
	if err != nil {
		b.log.Warn("mattermost click claim failed", "err", err)
		writeJSON(w, map[string]string{"ephemeral_text": b.text(b.locale(req.UserID), msgBusy, nil)})
		return
	}
	if !fresh {
		writeJSON(w, struct{}{})
		return
	}
	key := userKey(req.UserID, req.ChannelID)
	if purpose == purposeOpen {
		b.open(ctx, req.TriggerID, b.locale(req.UserID), key, c.State, c.Value, nil)
		writeJSON(w, struct{}{})
		return
	}
	choice, label, _ := strings.Cut(c.Value, " ")
	if !validID(req.PostID) {
		req.PostID = "" // nothing to mark as chosen
	}
	j := job{user: req.UserID, channel: req.ChannelID, delivery: "a:" + b.digest(req.Context.Token),
		input:   engine.Input{Kind: engine.InputChoice, Choice: choice, State: c.State},
		trigger: req.TriggerID, triggerAt: b.now(), clicked: req.PostID, label: label, once: once}
	if err := b.enqueue(j); err != nil {
		b.release(ctx, once)
		b.log.Warn("mattermost turn not queued", "err", err)
		writeJSON(w, map[string]string{"ephemeral_text": b.text(b.locale(req.UserID), msgBusy, nil)})
		return
	}
	writeJSON(w, struct{}{})
}

// serveDialog handles a dialog submission relayed by the Mattermost server.
func (b *Bot) serveDialog(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req dialogRequest
	if json.Unmarshal(body, &req) != nil || !validID(req.UserID) || !validID(req.ChannelID) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	c, err := b.tokens.Verify(req.State, purposeDialog, userKey(req.UserID, req.ChannelID))
	if err != nil {
		b.refuse(w, r, req.UserID, err, true)
		return
	}
	if req.Cancelled {
		writeJSON(w, struct{}{})
		return
	}
	values, err := submission(req.Submission)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	// The same submission (same form, same values) acts once; a corrected
	// one after a refusal is a new attempt.
	sub := b.digest(req.State, values[fieldCode], values[fieldPassword], values[fieldConfirm], values[fieldAnswer])
	once := "dlg:" + sub
	fresh, err := b.claim(ctx, once, b.o.Config.TokenTTL)
	if err != nil {
		b.log.Warn("mattermost submission claim failed", "err", err)
		writeJSON(w, map[string]string{"error": b.text(b.locale(req.UserID), msgBusy, nil)})
		return
	}
	if !fresh {
		writeJSON(w, struct{}{})
		return
	}
	wt := newWaiter()
	j := job{user: req.UserID, channel: req.ChannelID, delivery: "d:" + sub, input: dialogInput(values, c), w: wt}
	if err := b.enqueue(j); err != nil {
		b.release(ctx, once)
		b.log.Warn("mattermost turn not queued", "err", err)
		writeJSON(w, map[string]string{"error": b.text(b.locale(req.UserID), msgBusy, nil)})
		return
	}
	reply, loc, inDialog, done := wt.wait(ctx, b.o.SubmitWait)
	if !done || !inDialog || reply == nil {
		// Closed: the reply is (or will be) in the DM.
		writeJSON(w, struct{}{})
		return
	}
	if reply.Retry {
		// Nothing lasting happened: the same submission may be sent again.
		b.release(ctx, once)
		writeJSON(w, map[string]string{"error": b.text(loc, msgBusy, nil)})
		return
	}
	// A refused input may be sent again as it was (the engine answers a
	// repeated delivery with the same refusal, acting once).
	b.release(ctx, once)
	var msgs []string
	for _, o := range reply.Outputs {
		if o.Error {
			msgs = append(msgs, b.text(loc, o.MessageID, o.Args))
		}
	}
	writeJSON(w, map[string]any{"errors": map[string]string{errorField(c.Value): strings.Join(msgs, " ")}})
}

// submission decodes the values of a submitted dialog: text fields only.
func submission(raw json.RawMessage) (map[string]string, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for _, k := range []string{fieldCode, fieldPassword, fieldConfirm, fieldAnswer} {
		if v, ok := m[k].(string); ok {
			out[k] = v
		}
	}
	return out, nil
}
