package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/resetbot/resetbot/core/handoff/apikey"
)

// liftRequest is the body of POST /api/v1/lifts.
type liftRequest struct {
	User string `json:"user"`
}

// Lifted is the answer to POST /api/v1/lifts. It is the same whether or not
// the user names an account, so a key cannot be used to enumerate accounts;
// the audit record (regulation.lifted) says which it was.
type Lifted struct {
	Status string `json:"status"`
}

// StatusLifted is Lifted.Status.
const StatusLifted = "lifted"

// lift lifts the bot's own pauses (bans, counts) on one account: the
// help-desk action for an owner whose account strangers paused. It is
// idempotent: lifting twice is lifting once.
func (h *Handler) lift(w http.ResponseWriter, r *http.Request, k apikey.Key) {
	body, ok := h.jsonBody(w, r, k)
	if !ok {
		return
	}
	var req liftRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		h.invalid(w, r, k, http.StatusBadRequest, "invalid_request", "body must be a JSON object with only user")
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		h.invalid(w, r, k, http.StatusBadRequest, "invalid_request", "body must hold a single JSON object")
		return
	}
	if req.User == "" || len(req.User) > 256 {
		h.invalid(w, r, k, http.StatusBadRequest, "invalid_request", "user must be printable text of at most 256 bytes")
		return
	}
	if h.o.Lifter == nil {
		h.unavailable(w, r, k, errors.New("no lifter configured"))
		return
	}
	if _, err := h.o.Lifter.Lift(r.Context(), req.User, k.Requester(), "api", k.InScope); err != nil {
		h.unavailable(w, r, k, err)
		return
	}
	writeJSON(w, http.StatusOK, Lifted{Status: StatusLifted})
}
