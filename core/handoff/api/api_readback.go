package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/apikey"
	"github.com/resetbot/resetbot/core/secret"
)

// ReadbackAnswer is the answer to POST /api/v1/handoffs/{id}/readback.
type ReadbackAnswer struct {
	// Result is verified, wrong (try again) or failed (too many wrong).
	Result string         `json:"result"`
	Status handoff.Status `json:"status"`
	Links  Links          `json:"links"`
}

// readback lets the agent's ticketing system enter what the caller read
// back. Only the key that created the handoff may; any other sees 404.
func (h *Handler) readback(w http.ResponseWriter, r *http.Request, k apikey.Key) {
	body, ok := h.jsonBody(w, r, k)
	if !ok {
		return
	}
	phrase, detail := decodeReadback(body)
	if detail != "" {
		h.invalid(w, r, k, http.StatusBadRequest, "invalid_request", detail)
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	ho, err := h.o.Handoffs.Get(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) {
		apikey.WriteError(w, http.StatusNotFound, "not_found")
		return
	}
	if err != nil {
		h.unavailable(w, r, k, err)
		return
	}
	if ho.Requester != k.Requester() || ho.Action != handoff.ActionVerify {
		h.audit(r, audit.Event{Name: audit.NameAuthnRejected, Actor: k.Requester(), Outcome: audit.OutcomeDenied,
			Reason: "not_owner", Fields: map[string]string{"handoff": ho.ID}})
		apikey.WriteError(w, http.StatusNotFound, "not_found")
		return
	}
	res, err := h.o.Handoffs.ConfirmReadback(ctx, id, phrase)
	if errors.Is(err, handoff.ErrFinal) {
		h.invalid(w, r, k, http.StatusConflict, "finished", "the handoff has already ended")
		return
	}
	if err != nil {
		h.unavailable(w, r, k, err)
		return
	}
	if ho, err = h.o.Handoffs.Get(ctx, id); err != nil {
		h.unavailable(w, r, k, err)
		return
	}
	out := map[handoff.ReadbackResult]string{handoff.ReadbackVerified: "verified", handoff.ReadbackWrong: "wrong",
		handoff.ReadbackFailed: "failed"}[res]
	writeJSON(w, http.StatusOK, ReadbackAnswer{Result: out, Status: ho.Status, Links: Links{Self: self(ho.ID)}})
}

// decodeReadback parses {"phrase": "..."} strictly; detail never echoes it.
func decodeReadback(body []byte) (secret.String, string) {
	var req struct {
		Phrase string `json:"phrase"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return secret.String{}, "body must be a JSON object with only phrase"
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return secret.String{}, "body must hold a single JSON object"
	}
	if req.Phrase == "" || len(req.Phrase) > 64 {
		return secret.String{}, "phrase is required (at most 64 characters)"
	}
	return secret.New(req.Phrase), ""
}
