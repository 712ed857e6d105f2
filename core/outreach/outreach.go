// Package outreach is resetbot acting first: it tells a user on chat that
// something happened to their account ("you are locked out — was this you?",
// "your password expires Friday") and offers the matching flow.
//
// The package holds small contracts shared by every kind of outreach (the
// lockout watcher here, expiry reminders elsewhere) and the platforms that
// deliver it:
//
//   - DirectMessenger is the capability a chat adapter (bot/slack,
//     bot/teams) implements to find a directory user on the platform and
//     send them one Notice with buttons;
//   - Answerer is what the adapter calls when one of those buttons is
//     clicked; it says which flow to start or which message to show;
//   - Once (once.go) claims an event exactly once in the shared store, so
//     a DM is sent once per event even across restarts and replicas;
//   - notice.go holds what every kind does alike: resolve and send through
//     the messengers, name a notice (NewRef), keep its record and let only
//     its addressee answer it (NoticeRecord, ReadNotice);
//   - lease (sub-package) elects the one replica that runs each watcher.
//
// A notice is never a verification factor: the buttons only start the
// normal flows (unlock, reset, change), which identify and verify the user
// exactly as if they had typed the request. The chat identity a notice went
// to stays a signal, as everywhere else.
package outreach

import (
	"context"
	"errors"
	"time"

	"github.com/resetbot/resetbot/core/directory"
)

// ErrUnmapped means the directory user has no account on the platform (no
// chat user with that email, or no stored conversation to reach them): the
// outreach skips them. It is a result, not a fault.
var ErrUnmapped = errors.New("outreach: user not reachable on this platform")

// ErrUnavailable wraps platform failures (network, rate limits, 5xx).
var ErrUnavailable = errors.New("outreach: platform unavailable")

// Recipient is one chat user a notice can go to.
type Recipient struct {
	// Channel is the adapter name ("slack", "teams", "sms").
	Channel string `json:"channel"`
	// User is the platform's user key, as the adapter binds sessions to it
	// (Slack "T123:U456", Teams AAD object ID).
	User string `json:"user"`
	// Locale is the user's language on the platform when known ("fr").
	Locale string `json:"locale,omitempty"`
	// TimeZone is the user's IANA zone when the platform knows it
	// ("Europe/Paris"); quiet hours use it over the configured default.
	TimeZone string `json:"tz,omitempty"`
	// Address is the platform's opaque delivery address when User alone
	// cannot be messaged (Teams: the stored conversation reference). Only
	// the adapter that resolved the recipient reads it.
	Address string `json:"addr,omitempty"`
}

// Action is one button of a notice.
type Action struct {
	// ID is what the Answerer receives: ActionUnlock, ActionNotMe, ...
	ID string `json:"id"`
	// MessageID is the catalogued button label.
	MessageID string `json:"message_id"`
	// Danger styles the button as a warning (Not me).
	Danger bool `json:"danger,omitempty"`
}

// Action IDs used by the lockout and expiry notices.
const (
	ActionUnlock = "unlock"
	ActionNotMe  = "not_me"
	ActionReset  = "reset"
	ActionChange = "change"
)

// Notice is one outbound message: catalogued text, its arguments, buttons.
// Adapters render it (Block Kit, Adaptive Card) and carry Ref in each
// button so the click comes back to the Answerer; they sign it as they sign
// every button, so a forged or replayed ref is refused before it gets here.
type Notice struct {
	// Ref names this notice in the store and in the audit (random, no
	// account data in it).
	Ref string `json:"ref"`
	// Kind says what the notice is about ("lockout", "expiry").
	Kind string `json:"kind"`
	// MessageID is the catalogued body ("outreach.lockout").
	MessageID string `json:"message_id"`
	// Args fill the body's template (e.g. {"when": "07:12 (Europe/Paris)"}).
	// Never a secret.
	Args map[string]string `json:"args,omitempty"`
	// Locale is the language to render in.
	Locale  string   `json:"locale,omitempty"`
	Actions []Action `json:"actions,omitempty"`
}

// DirectMessenger is a chat platform's capability to reach a user first.
//
// Implementations are safe for concurrent use; every method honours ctx and
// never blocks past it. Resolve and Send return ErrUnmapped for a user the
// platform cannot reach and wrap other failures with ErrUnavailable; the
// caller decides retries. Send is not idempotent: callers claim the event
// with Once before sending.
type DirectMessenger interface {
	// Channel names the platform ("slack", "teams").
	Channel() string
	// Resolve maps a directory user to the platform user, by the account's
	// work email (Slack users.lookupByEmail) or a conversation stored from
	// an earlier interaction (Teams). Guests, bots, deactivated users and
	// users of other workspaces are ErrUnmapped.
	Resolve(ctx context.Context, u directory.User) (Recipient, error)
	// Send delivers n in a direct message to r.
	Send(ctx context.Context, r Recipient, n Notice) error
}

// Reply tells the adapter what to do after a notice button was clicked.
type Reply struct {
	// Flow, when set, is started as if the user had asked for it
	// (engine.InputStart): "unlock", "reset", "change". The flow verifies
	// the user as it always does.
	Flow string
	// MessageID, when set, is said first ("outreach.not_me_done").
	MessageID string
	// Actions, when set, are offered with MessageID (Not me offers a reset).
	Actions []Action
	// Ref is the reference ID to show with MessageID.
	Ref string
}

// Answerer handles a click on a notice's button.
//
// ref and action come from the adapter's signed button; who is the clicking
// user as the platform authenticated them. Implementations refuse (empty
// Reply with MessageID "outreach.expired") a ref that is unknown, expired,
// or was sent to someone else — never saying which.
type Answerer interface {
	Answer(ctx context.Context, ref, action string, who Recipient) (Reply, error)
}

// Clock is the time source; tests inject one.
type Clock func() time.Time
