package handoff

import (
	"context"
	"errors"

	"github.com/resetbot/resetbot/core/audit"
)

// ReasonNotPossible is the one reason a handoff that could not start gives.
const ReasonNotPossible = "not_possible"

// Start creates h (see Create), asks st to reach the user and records the
// outcome: status started when st succeeds (unless the flow already reported
// progress), failed with reason ReasonNotPossible when it fails, whatever the
// cause: no such account, out of the requester's scope, no mobile of record,
// a spent send budget or a platform that could not reach the person all look
// the same to the requester (no oracle about who has what). The Starter's
// error is logged and audited, not returned: it is the handoff's result. The
// error returned means h was invalid (ErrInvalid) or the store failed.
//
// Both the HTTP API and the agent chat commands start handoffs through Start,
// so every start is audited the same way (handoff.created, handoff.started).
func (s *Store) Start(ctx context.Context, h Handoff, st Starter) (Handoff, error) {
	h, err := s.Create(ctx, h)
	if err != nil {
		return Handoff{}, err
	}
	if serr := st.Start(ctx, h); serr != nil {
		// The Starter's error text stays in the log; callers see a reason code.
		s.opts.Log.Warn("handoff start failed", "handoff", h.ID, "channel", h.Channel, "err", serr)
		s.audit(ctx, h, audit.Event{Name: NameStarted, Outcome: audit.OutcomeFailure, Reason: ReasonNotPossible})
		out, err := s.Update(ctx, h.ID, Event{Status: StatusFailed, Reason: ReasonNotPossible})
		if errors.Is(err, ErrFinal) {
			return s.Get(ctx, h.ID)
		}
		return out, err
	}
	s.audit(ctx, h, audit.Event{Name: NameStarted, Outcome: audit.OutcomeSuccess})
	out, err := s.update(ctx, h.ID, Event{Status: StatusStarted}, StatusPending)
	if errors.Is(err, ErrFinal) {
		return s.Get(ctx, h.ID)
	}
	return out, err
}
