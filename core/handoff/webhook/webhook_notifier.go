package webhook

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/resetbot/resetbot/core/handoff"
)

// Completion is the body of the completion webhook. It has no field that
// could hold a password, a code or a key.
type Completion struct {
	ID     string         `json:"id"`
	Status handoff.Status `json:"status"`
	Action handoff.Action `json:"action"`
	Ref    string         `json:"ref,omitempty"`
	Factor string         `json:"factor,omitempty"`
	Reason string         `json:"reason,omitempty"`
	// Time is when the handoff reached its terminal status (RFC 3339, UTC).
	Time time.Time `json:"time"`
}

// Targets finds the completion webhook of a handoff's requester (apikey.Set
// implements it). ok is false when the requester has none (agents, keys
// without webhook_url).
type Targets interface {
	Target(requester string) (t Target, ok bool)
}

// Notifier sends the completion webhook when a handoff ends. It implements
// handoff.TerminalHook: pass it as handoff.Options.Terminal, so Store.Update
// calls it exactly once per handoff, from the update that ended it.
type Notifier struct {
	s       *Sender
	targets Targets
	log     *slog.Logger
}

var _ handoff.TerminalHook = (*Notifier)(nil)

// NewNotifier returns a Notifier delivering through s; log may be nil.
func NewNotifier(s *Sender, targets Targets, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{s: s, targets: targets, log: log}
}

// Terminal queues the completion webhook of h, if its requester has one. It
// never blocks on the network; delivery failures are logged by the Sender.
func (n *Notifier) Terminal(ctx context.Context, h handoff.Handoff) {
	t, ok := n.targets.Target(h.Requester)
	if !ok {
		return
	}
	body, err := json.Marshal(Completion{ID: h.ID, Status: h.Status, Action: h.Action, Ref: h.Ref,
		Factor: h.Factor, Reason: publicReason(h.Reason), Time: h.Updated.UTC()})
	if err != nil {
		n.log.Error("completion webhook not encoded", "handoff", h.ID, "err", err)
		return
	}
	if err := n.s.Send(ctx, t, body); err != nil {
		n.log.Warn("completion webhook not queued", "handoff", h.ID, "target", t.Name, "err", err)
	}
}

// publicReason is what the key holder learns of a reason: "not_possible",
// never which (the same rule as the API; see api.PublicReason).
func publicReason(r string) string {
	if r == "" {
		return ""
	}
	return handoff.ReasonNotPossible
}
