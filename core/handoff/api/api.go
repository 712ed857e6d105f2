// Package api is the HTTP API through which ITSM systems (ServiceNow, Jira
// and the like) hand users to the bot:
//
//	POST /api/v1/handoffs       start a handoff       (scope handoffs:create)
//	GET  /api/v1/handoffs/{id}  read its status       (scope handoffs:read, own handoffs only)
//	POST /api/v1/lifts          lift the bot's pauses on an account (scope bans:lift)
//
// The Handler is mounted on the public listener at /api/v1/ and documented in
// api/openapi.yaml (a test keeps the two in step). Every request is
// authenticated by apikey.Guard before its body is read. Requests and
// responses have no field that could carry a password or a code: the API can
// start a reset and follow it, never learn or choose a secret.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/apikey"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/server"
	"github.com/resetbot/resetbot/core/store"
)

// Prefix is where the Handler is mounted.
const Prefix = "/api/v1/"

// Route is one method and path the Handler serves (OpenAPI path syntax).
type Route struct{ Method, Path string }

// Routes lists every route the Handler serves.
func Routes() []Route {
	return []Route{
		{http.MethodPost, "/api/v1/handoffs"},
		{http.MethodGet, "/api/v1/handoffs/{id}"},
		{http.MethodPost, "/api/v1/lifts"},
		{http.MethodPost, "/api/v1/handoffs/{id}/readback"},
	}
}

// MaxBody bounds a create request; the real body is a few dozen bytes.
const MaxBody = 16 << 10

// Handoffs is what the API needs of a handoff.Store.
type Handoffs interface {
	Start(ctx context.Context, h handoff.Handoff, st handoff.Starter) (handoff.Handoff, error)
	Get(ctx context.Context, id string) (handoff.Handoff, error)
	ConfirmReadback(ctx context.Context, id string, phrase secret.String) (handoff.ReadbackResult, error)
}

var _ Handoffs = (*handoff.Store)(nil)

// Options are the Handler's dependencies; all but Log and Audit are required.
type Options struct {
	Handoffs Handoffs
	// Starter reaches the user (a chat channel's DM, or the SMS with the
	// code).
	Starter handoff.Starter
	// Channels are the handoff channels enabled now (the running chat
	// channels that start handoffs, and handoff.ChannelSMS when SMS
	// handoffs are configured); a request naming another is refused. nil
	// accepts any well-formed name and leaves the refusal to Starter.
	Channels func() []string
	// Lifter lifts the bot's pauses on an account; nil answers 503.
	Lifter handoff.Lifter
	// Guard authenticates keys, checks scopes and rate limits.
	Guard *apikey.Guard
	// Store remembers Idempotency-Key headers; nil turns the feature off.
	Store store.Store
	Audit audit.Sink
	Log   *slog.Logger
}

// Handler serves the handoff API.
type Handler struct {
	o   Options
	mux *http.ServeMux
}

// New returns the Handler.
func New(o Options) *Handler {
	if o.Audit == nil {
		o.Audit = audit.Discard
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	h := &Handler{o: o, mux: http.NewServeMux()}
	h.mux.Handle("POST /api/v1/handoffs", o.Guard.Require(apikey.ScopeCreate, h.create))
	h.mux.Handle("GET /api/v1/handoffs/{id}", o.Guard.Require(apikey.ScopeRead, h.get))
	h.mux.Handle("POST /api/v1/lifts", o.Guard.Require(apikey.ScopeLift, h.lift))
	h.mux.Handle("POST /api/v1/handoffs/{id}/readback", o.Guard.Require(apikey.ScopeCreate, h.readback))
	return h
}

// ServeHTTP implements http.Handler. Unknown paths get 404 and known paths
// with another method 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// createRequest is the body of POST /api/v1/handoffs.
type createRequest struct {
	User    string         `json:"user"`
	Action  handoff.Action `json:"action"`
	Channel string         `json:"channel"`
}

// Links are the related URLs of a handoff.
type Links struct {
	Self string `json:"self"`
}

// Created is the answer to POST /api/v1/handoffs.
type Created struct {
	ID     string         `json:"id"`
	Status handoff.Status `json:"status"`
	// Reason is "not_possible" when the handoff failed at once; it never
	// says why (see PublicReason).
	Reason string `json:"reason,omitempty"`
	Links  Links  `json:"links"`
}

// View is the answer to GET /api/v1/handoffs/{id}.
type View struct {
	ID      string          `json:"id"`
	Action  handoff.Action  `json:"action"`
	User    string          `json:"user"`
	Channel string          `json:"channel"`
	Status  handoff.Status  `json:"status"`
	Factor  string          `json:"factor,omitempty"`
	Reason  string          `json:"reason,omitempty"`
	Ref     string          `json:"ref,omitempty"`
	Created time.Time       `json:"created"`
	Updated time.Time       `json:"updated"`
	Events  []handoff.Event `json:"events"`
	Links   Links           `json:"links"`
}

// jsonBody reads a request body that must be JSON, at most MaxBody bytes;
// it has answered the client when ok is false.
func (h *Handler) jsonBody(w http.ResponseWriter, r *http.Request, k apikey.Key) ([]byte, bool) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		h.invalid(w, r, k, http.StatusUnsupportedMediaType, "unsupported_media_type", "content type must be application/json")
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	return server.ReadBody(w, r)
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request, k apikey.Key) {
	body, ok := h.jsonBody(w, r, k)
	if !ok {
		return
	}
	req, detail := decode(body)
	if detail == "" {
		detail = h.checkChannel(req.Channel)
	}
	if detail != "" {
		h.invalid(w, r, k, http.StatusBadRequest, "invalid_request", detail)
		return
	}
	ctx := r.Context()
	in, rep, err := h.reserve(ctx, r, k, body)
	if err == nil && rep.id != "" {
		var ho handoff.Handoff
		if ho, err = h.o.Handoffs.Get(ctx, rep.id); err == nil {
			w.Header().Set("Location", self(ho.ID))
			writeJSON(w, http.StatusOK, Created{ID: ho.ID, Status: ho.Status, Reason: PublicReason(ho.Reason), Links: Links{Self: self(ho.ID)}})
			return
		}
	}
	if err != nil {
		h.unavailable(w, r, k, err)
		return
	}
	if rep.code != 0 {
		h.invalid(w, r, k, rep.code, rep.err, "Idempotency-Key must be 1 to 128 printable characters, used for one body only, once at a time")
		return
	}
	ho, err := h.o.Handoffs.Start(ctx, handoff.Handoff{Action: req.Action, User: req.User,
		Channel: req.Channel, Requester: k.Requester()}, h.o.Starter)
	h.settle(ctx, in, ho.ID)
	if errors.Is(err, handoff.ErrInvalid) {
		h.invalid(w, r, k, http.StatusBadRequest, "invalid_request", "user must be printable text of at most 256 bytes")
		return
	}
	if err != nil {
		h.unavailable(w, r, k, err)
		return
	}
	w.Header().Set("Location", self(ho.ID))
	writeJSON(w, http.StatusCreated, Created{ID: ho.ID, Status: ho.Status, Reason: PublicReason(ho.Reason), Links: Links{Self: self(ho.ID)}})
}

// unavailable answers 503 for an infrastructure failure; the cause goes to
// the log with the request ID.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, k apikey.Key, err error) {
	h.o.Log.Error("handoff API failed", "request_id", server.RequestID(r.Context()), "key", k.ID, "err", err)
	apikey.WriteError(w, http.StatusServiceUnavailable, "unavailable")
}

// decode parses a create request strictly: one JSON object, known fields
// only, valid values. detail is a fixed sentence (never echoes the input).
func decode(body []byte) (createRequest, string) {
	var req createRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, "body must be a JSON object with only user, action and channel"
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, "body must hold a single JSON object"
	}
	switch {
	case req.User == "":
		return req, "user is required"
	case !req.Action.Valid():
		return req, "action must be reset, unlock or verify"
	case !handoff.ValidChannel(req.Channel):
		return req, "channel must be the name of an enabled handoff channel"
	}
	return req, ""
}

// checkChannel refuses a channel outside the enabled set. The sentence
// lists the enabled names (configuration, not the request's input).
func (h *Handler) checkChannel(name string) string {
	if h.o.Channels == nil {
		return ""
	}
	enabled := h.o.Channels()
	if slices.Contains(enabled, name) {
		return ""
	}
	if len(enabled) == 0 {
		return "no handoff channel is enabled"
	}
	return "channel must be one of: " + strings.Join(enabled, ", ")
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, k apikey.Key) {
	id := r.PathValue("id")
	ho, err := h.o.Handoffs.Get(r.Context(), id)
	if errors.Is(err, handoff.ErrNotFound) {
		apikey.WriteError(w, http.StatusNotFound, "not_found")
		return
	}
	if err != nil {
		h.unavailable(w, r, k, err)
		return
	}
	if ho.Requester != k.Requester() {
		// Another client's handoff looks exactly like a missing one (no IDOR,
		// no existence oracle); the attempt is audited.
		h.audit(r, audit.Event{Name: audit.NameAuthnRejected, Actor: k.Requester(), Outcome: audit.OutcomeDenied,
			Reason: "not_owner", Fields: map[string]string{"handoff": ho.ID}})
		apikey.WriteError(w, http.StatusNotFound, "not_found")
		return
	}
	events := make([]handoff.Event, 0, len(ho.Events))
	for _, e := range ho.Events {
		e.Reason = PublicReason(e.Reason)
		events = append(events, e)
	}
	writeJSON(w, http.StatusOK, View{ID: ho.ID, Action: ho.Action, User: ho.User, Channel: ho.Channel,
		Status: ho.Status, Factor: ho.Factor, Reason: PublicReason(ho.Reason), Ref: ho.Ref, Created: ho.Created,
		Updated: ho.Updated, Events: events, Links: Links{Self: self(ho.ID)}})
}

// PublicReason is what a key holder learns of a reason: "not_possible" for
// any, never which. Reasons such as "no mobile", "no factor enrolled" or
// "outside your scope" would tell an ITSM client (or whoever holds its key)
// which accounts have which factors; the help desk reads the real reason in
// the audit log and the escalation packet.
func PublicReason(r string) string {
	if r == "" {
		return ""
	}
	return handoff.ReasonNotPossible
}

// invalid answers a client mistake and audits it at info level (a mistake,
// not a fault).
func (h *Handler) invalid(w http.ResponseWriter, r *http.Request, k apikey.Key, status int, code, detail string) {
	h.audit(r, audit.Event{Name: NameInvalidRequest, Actor: k.Requester(), Outcome: audit.OutcomeDenied, Reason: code})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "detail": detail})
}

// NameInvalidRequest is the audit event of a refused malformed API request.
const NameInvalidRequest = "api.invalid_request"

func (h *Handler) audit(r *http.Request, e audit.Event) {
	e.Channel = "api"
	if err := h.o.Audit.Write(r.Context(), e); err != nil {
		h.o.Log.Error("api audit not recorded", "event", e.Name, "err", err)
	}
}

func self(id string) string { return Prefix + "handoffs/" + id }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
