// Package handoff is the channel-neutral core of help-desk handoffs: an agent
// or an ITSM system (ServiceNow, Jira) hands a user to the bot for a reset, an
// unlock or an agent-assisted verification, and follows its status until it
// ends.
//
// A Handoff names the account and the channel to reach the person on; it never
// verifies anyone (the flow still asks for the policy's factors) and it never
// holds a secret: no password, no code, no key. The one-time phone handoff code
// (IssueCode, RedeemCode) exists only as an HMAC in the store.
//
// Records live in a store.Store and are updated with compare-and-swap, so
// several replicas can report progress on one handoff. Terminal statuses
// (done, failed, escalated, expired) are final; reaching one calls the
// configured Terminal hook once (the signed completion webhook, see
// core/handoff/webhook).
//
// Sub-packages: apikey (scoped API keys), api (the HTTP API), webhook (signed
// webhooks), escalate (bot → people context packets).
package handoff

import (
	"context"
	"errors"
	"time"
)

// Action is what the help desk asks the bot to do.
type Action string

// Actions.
const (
	// ActionReset runs the password reset flow.
	ActionReset Action = "reset"
	// ActionUnlock runs the account unlock flow.
	ActionUnlock Action = "unlock"
	// ActionVerify runs agent-assisted verification: the bot challenges the
	// user's enrolled factor and reports pass (verified) or fail.
	ActionVerify Action = "verify"
)

// Valid reports whether a is a known action.
func (a Action) Valid() bool {
	return a == ActionReset || a == ActionUnlock || a == ActionVerify
}

// Status is where a handoff stands.
type Status string

// Statuses. Pending, started and verified move forward only; the others are
// terminal and final.
const (
	StatusPending   Status = "pending"
	StatusStarted   Status = "started"
	StatusVerified  Status = "verified"
	StatusDone      Status = "done"
	StatusFailed    Status = "failed"
	StatusEscalated Status = "escalated"
	StatusExpired   Status = "expired"
)

// Terminal reports whether s ends a handoff.
func (s Status) Terminal() bool {
	switch s {
	case StatusDone, StatusFailed, StatusEscalated, StatusExpired:
		return true
	}
	return false
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s.rank() > 0 }

// rank orders statuses; a handoff never moves to a lower rank.
func (s Status) rank() int {
	switch s {
	case StatusPending:
		return 1
	case StatusStarted:
		return 2
	case StatusVerified:
		return 3
	case StatusDone, StatusFailed, StatusEscalated, StatusExpired:
		return 4
	}
	return 0
}

// ChannelSMS is the one handoff channel that is not a chat adapter: it
// texts the user a one-time handoff code and the phone number to call; the
// caller types the code and skips identification. Chat handoff channels are
// the registered channel adapters that can start a handoff (core/channel);
// core names none of them.
const ChannelSMS = "sms"

// maxChannelBytes bounds a channel name.
const maxChannelBytes = 32

// ValidChannel reports whether c is well formed as a channel name: 1 to 32
// lowercase ASCII letters, digits, '-' or '_'. Whether a handoff can go to
// it is the enabled set's business (the API checks it; starting a handoff
// on a channel that is not running fails).
func ValidChannel(c string) bool {
	if c == "" || len(c) > maxChannelBytes {
		return false
	}
	for _, r := range c {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// Handoff is one request to hand a user to the bot. It holds no secret.
type Handoff struct {
	// ID is 128 random bits, base64url without padding; unguessable.
	ID     string `json:"id"`
	Action Action `json:"action"`
	// User is the login or e-mail address as the help desk gave it.
	User string `json:"user"`
	// Channel is the name of the chat channel that reaches the user
	// ("slack"), or ChannelSMS.
	Channel string `json:"channel"`
	// Requester is "apikey:<key id>" or "agent:<channel>:<user>".
	Requester string `json:"requester"`
	Status    Status `json:"status"`
	// Factor is the last factor reported (verified with ...), if any.
	Factor string `json:"factor,omitempty"`
	// Reason is the last machine-readable reason reported, if any.
	Reason string `json:"reason,omitempty"`
	// Ref is the last conversation reference reported, if any.
	Ref     string    `json:"ref,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Events is the history, oldest first, bounded to MaxEvents (the oldest
	// are dropped first).
	Events []Event `json:"events,omitempty"`
}

// Event is one status report.
type Event struct {
	Time   time.Time `json:"time"`
	Status Status    `json:"status"`
	Ref    string    `json:"ref,omitempty"`
	Factor string    `json:"factor,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// MaxEvents bounds Handoff.Events.
const MaxEvents = 32

// Errors.
var (
	// ErrNotFound means no such handoff (unknown, or evicted after retention).
	ErrNotFound = errors.New("handoff: not found")
	// ErrFinal means the handoff already reached a terminal status.
	ErrFinal = errors.New("handoff: already finished")
	// ErrInvalid means a field of a new handoff or an event is not acceptable.
	ErrInvalid = errors.New("handoff: invalid")
	// ErrThrottled means too many wrong handoff codes were typed recently, by
	// anyone; RedeemCode refuses every code until the window passes.
	ErrThrottled = errors.New("handoff: too many wrong codes")
)

// Starter starts the conversation for a new handoff: it opens the Slack or
// Teams DM and starts the flow, or (sms) issues a code with Store.IssueCode
// and texts it with the phone number to call. It returns an error only when
// the user could not be reached; it must not block on the conversation.
type Starter interface {
	Start(ctx context.Context, h Handoff) error
}

// StarterFunc adapts a function to Starter.
type StarterFunc func(ctx context.Context, h Handoff) error

// Start implements Starter.
func (f StarterFunc) Start(ctx context.Context, h Handoff) error { return f(ctx, h) }

// TerminalHook is told, once, when a handoff reaches a terminal status
// (webhook.Notifier implements it). Terminal must not block: it queues.
type TerminalHook interface {
	Terminal(ctx context.Context, h Handoff)
}

// ChangeHook is told of every status change (started, verified, ... and the
// terminal one), in order per handoff, from the update that made it: the agent
// who started a handoff in chat follows it live this way. Changed must not
// block; it must not call Store.Update for the same handoff.
type ChangeHook interface {
	Changed(ctx context.Context, h Handoff)
}

// ChangeFunc adapts a function to ChangeHook.
type ChangeFunc func(ctx context.Context, h Handoff)

// Changed implements ChangeHook.
func (f ChangeFunc) Changed(ctx context.Context, h Handoff) { f(ctx, h) }

// Audit event names written by this package and its sub-packages.
const (
	NameCreated      = "handoff.created"
	NameStarted      = "handoff.started"
	NameStatus       = "handoff.status"
	NameCodeIssued   = "handoff.code_issued"
	NameCodeRedeemed = "handoff.code_redeemed"
)

// Hooks returns a TerminalHook that tells each of hooks in order (nil ones
// are skipped): the completion webhook and, say, the agent's live status.
func Hooks(hooks ...TerminalHook) TerminalHook { return multiHook(hooks) }

type multiHook []TerminalHook

func (m multiHook) Terminal(ctx context.Context, h Handoff) {
	for _, x := range m {
		if x != nil {
			x.Terminal(ctx, h)
		}
	}
}

// Lifter lifts the bot's own pauses on one account (core/regulation): the
// help-desk action for an owner whose account strangers paused. user is a
// login or e-mail address as an agent or ITSM tool names it; actor and
// channel go to the audit record, which the Lifter writes whatever the
// outcome. found is false when user names no single account (callers that
// answer outside the help desk must not tell the two apart). err is an
// infrastructure failure. inScope, when not nil, limits the accounts the
// caller may lift (an API key's OUs): an account outside it is not found.
type Lifter interface {
	Lift(ctx context.Context, user, actor, channel string, inScope func(dn string) bool) (found bool, err error)
}
