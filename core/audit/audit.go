// Package audit records security-relevant decisions as structured events:
// every verification attempt, code sent, reset, unlock, throttle hit, rejected
// request and escalation.
//
// Events are append-only. A Sink has exactly one operation, Write; nothing in
// this package can update or delete a record once written. The JSON writer
// emits one JSON object per line, which both keeps lines parseable by log
// shippers and makes log injection impossible: a typed username containing a
// newline is escaped inside its field, never a new line.
//
// Event has no secret-typed field and must never carry a secret: no password,
// code, answer, seed, token or key, in any field including Fields. Destinations
// are masked with MaskPhone or MaskEmail and session ids are hashed with
// HashSession before they reach an event. Because a secret cannot be recognised
// generically once it is a plain string, tests prove the rule instead:
// audittest.AssertNoSecrets greps recorded events for the raw values. As a
// last resort the JSON form writes a Fields entry whose key names a secret
// ("code", "password", ..., see logging.Sensitive) as REDACTED.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// Event names used across resetbot. Consumers may define more, following the
// "area.what" pattern.
const (
	// NameTransition is a flow state change.
	NameTransition = "flow.transition"
	// NameOutOfOrder is an event refused because it does not fit the flow state
	// (stale or forged step token, replay).
	NameOutOfOrder = "flow.out_of_order"
	// NameVerifyAttempt is one verification attempt with its factor and outcome.
	NameVerifyAttempt = "verify.attempt"
	// NameCodeSent is a one-time code or passphrase handed to a notifier.
	NameCodeSent = "code.sent"
	// NameSendFailed is a notifier failure.
	NameSendFailed = "send.failed"
	// NameResetDone is a password reset performed (or refused) by the directory.
	NameResetDone = "reset.done"
	// NameUnlockDone is an account unlock performed (or refused) by the directory.
	NameUnlockDone = "unlock.done"
	// NameRegulationDenied is a request refused by throttling or a ban.
	NameRegulationDenied = "regulation.denied"
	// NameAuthnRejected is an inbound request refused before the engine ran
	// (bad signature or JWT, bad API key, foreign tenant).
	NameAuthnRejected = "authn.rejected"
	// NameEscalation is a case handed to the help desk.
	NameEscalation = "escalation"
	// NameReplyFailed is a committed turn's reply the chat platform did not
	// take: Reason "kept" (shown on the platform's redelivery) or "lost".
	NameReplyFailed = "reply.failed"
)

// Outcomes commonly used in Event.Outcome.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
	OutcomeError   = "error"
)

// Event is one audit record. Every field is plain, non-secret text; see the
// package documentation. Empty fields are omitted from the JSON form.
type Event struct {
	// Time is when it happened; writers fill it from their clock when zero and
	// always write it in UTC as RFC 3339 with a "Z" suffix.
	Time time.Time `json:"time"`
	// Name is the event type, e.g. "verify.attempt".
	Name string `json:"event"`
	// Ref is the reference id also shown to the user, so a help-desk ticket can
	// be matched to this record and to the log lines with the same ref.
	Ref string `json:"ref,omitempty"`
	// Session is the hashed session id (HashSession), never the raw id.
	Session string `json:"session,omitempty"`
	// Channel is where the request came from: slack, teams, voice, console, api.
	Channel string `json:"channel,omitempty"`
	// Actor is who acted: a directory user id, an agent id, an API key id or a
	// channel identity.
	Actor string `json:"actor,omitempty"`
	// Flow is the flow name (reset, unlock, enroll, handoff).
	Flow string `json:"flow,omitempty"`
	// From is the state before a transition.
	From string `json:"from,omitempty"`
	// To is the state after a transition.
	To string `json:"to,omitempty"`
	// Event is the flow event that caused a transition.
	Event string `json:"flow_event,omitempty"`
	// Factor is the verification factor type (totp, sms, voice, email, questions).
	Factor string `json:"factor,omitempty"`
	// Outcome is the result: success, failure, denied, error.
	Outcome string `json:"outcome,omitempty"`
	// Reason is a short machine-readable cause (bad_code, expired, banned, ...).
	Reason string `json:"reason,omitempty"`
	// Destination is a masked phone number or e-mail address (MaskPhone, MaskEmail).
	Destination string `json:"destination,omitempty"`
	// Fields holds any further non-secret detail (try number, replica, ...).
	Fields map[string]string `json:"fields,omitempty"`
}

// FieldCaller is the Fields key of a conversation's start event that holds
// the caller ID on the phone (the number Twilio gives as From). It lets the
// abuse alarms see one number across calls; it is never a factor.
const FieldCaller = "caller"

// Sink receives audit events. Implementations are safe for concurrent use and
// append only: there is deliberately no way to change or remove an event.
// Write returns an error only when the event could not be recorded; callers
// that must fail closed on an unrecorded decision can act on it.
type Sink interface {
	Write(ctx context.Context, e Event) error
}

// Discard is a Sink that drops every event.
var Discard Sink = discard{}

type discard struct{}

func (discard) Write(context.Context, Event) error { return nil }

// Multi returns a Sink that writes every event to each sink in order. It
// writes to all of them even when one fails, and returns the joined errors.
func Multi(sinks ...Sink) Sink {
	return multi(append([]Sink(nil), sinks...))
}

type multi []Sink

func (m multi) Write(ctx context.Context, e Event) error {
	var errs []error
	for _, s := range m {
		if err := s.Write(ctx, e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// HashSession returns the form of a session id that may appear in audit
// events and logs: the first 16 bytes of its SHA-256, hex encoded. Session ids
// are 128-bit random values, so an unkeyed hash cannot be reversed, yet equal
// ids still correlate across records.
func HashSession(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

// Recorder is an in-memory Sink for tests. It is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

var _ Sink = (*Recorder)(nil)

// Write implements Sink; it never fails.
func (r *Recorder) Write(_ context.Context, e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, cloneEvent(e))
	return nil
}

// Events returns a copy of the recorded events in order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Event, len(r.events))
	for i, e := range r.events {
		out[i] = cloneEvent(e)
	}
	return out
}

// Names returns the Name of every recorded event in order.
func (r *Recorder) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.events))
	for i, e := range r.events {
		out[i] = e.Name
	}
	return out
}

// Find returns the recorded events with the given name, in order.
func (r *Recorder) Find(name string) []Event {
	var out []Event
	for _, e := range r.Events() {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// Reset forgets every recorded event (between sub-tests).
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
}

func cloneEvent(e Event) Event {
	if e.Fields != nil {
		f := make(map[string]string, len(e.Fields))
		for k, v := range e.Fields {
			f[k] = v
		}
		e.Fields = f
	}
	return e
}
