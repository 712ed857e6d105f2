package engine

import (
	"time"

	"github.com/resetbot/resetbot/core/secret"
)

// InputKind says what a user did.
type InputKind uint8

// Input kinds. Adapters translate platform events into exactly one of these.
const (
	// InputText is free text typed in a chat.
	InputText InputKind = iota + 1
	// InputDigits is keypad input (DTMF) or digits typed in chat.
	InputDigits
	// InputChoice is a button or menu choice; Choice holds the choice ID.
	InputChoice
	// InputSecret is text entered in a masked field (a modal, a password card).
	InputSecret
	// InputStart asks to start a flow; Flow names it.
	InputStart
	// InputTimeout means the user said nothing in time (voice silence).
	InputTimeout
	// InputCancel means the user or the platform ended the conversation (hang-up, "cancel").
	InputCancel
)

var inputKindNames = [...]string{"", "text", "digits", "choice", "secret", "start", "timeout", "cancel"}

// String names the kind for logs and audit.
func (k InputKind) String() string {
	if int(k) < len(inputKindNames) {
		return inputKindNames[k]
	}
	return "unknown"
}

// Input is one neutral user action.
//
// Everything a person typed is carried as a secret.String: people paste
// passwords and codes into the wrong place, so typed text is never logged or
// echoed by the engine. Only choice IDs and flow names, which come from our own
// buttons, are plain strings.
type Input struct {
	Kind InputKind
	// Value is typed text, digits or masked input.
	Value secret.String
	// Confirm is the second entry of a masked field that asks for it twice.
	Confirm secret.String
	// Choice is the ID of the chosen option for InputChoice.
	Choice string
	// Flow names the flow to start for InputStart.
	Flow string
	// Handoff is the ID of a help-desk handoff that starts the flow
	// (InputStart only): the account comes from it, verification still follows.
	Handoff string
	// State is the Reply.Step a button or form was rendered for (carried in
	// a signed token, see core/token); a bare state name is accepted too.
	// When set and the session has moved on, or it names another
	// conversation, the input is refused as out of order: a stale or
	// replayed click never acts on a later step.
	State string
}

// Hints are identity signals from the platform: the chat profile's email, the
// caller ID. They may pre-select the account, never verify it.
//
// Contract with the adapters: Email and Login are the platform identity's
// mapping to a directory attribute (Slack profile email, Teams UPN or
// object ID → the configured attribute). When the flows find exactly one
// account for them, the conversation starts at once for that account (it is
// named, and a "different account" choice goes back to asking for a login);
// the verification required is the same either way. An adapter that cannot
// vouch for the mapping (an unconfirmed email, a guest account) sets
// Unverified: the flows then ignore Email and Login entirely, and the reply
// is the plain start's, with the same timing.
type Hints struct {
	Email string
	Login string
	Phone string
	// Unverified marks Email and Login as not vouched for by the platform:
	// never used to pick an account.
	Unverified bool
}

// Turn is one inbound event for the engine.
type Turn struct {
	// Channel names the adapter ("slack", "teams", "voice", "console").
	Channel string
	// ChannelUser identifies the conversation's user on the channel (Slack user
	// ID, AAD object ID, CallSid). Sessions are bound to (Channel, ChannelUser).
	ChannelUser string
	// DeliveryID makes the turn idempotent: the same ID twice gives the same
	// outputs and acts once. Empty disables deduplication.
	DeliveryID string
	// Locale is the user's language ("en", "es-MX"); empty keeps the session's.
	Locale string
	// LocaleChosen says the user picked Locale explicitly (the phone's
	// language menu), so the directory's preferred language does not
	// replace it.
	LocaleChosen bool
	Hints        Hints
	Input        Input
	// NoReplay says the adapter never shows the reply of a repeated
	// delivery (Slack acknowledges before the turn runs): the engine keeps
	// only a mark that the delivery ran, and answers a copy arriving while
	// it runs at once instead of waiting for its reply.
	NoReplay bool
	// StartBy, when set, bounds the acquire step: a turn whose store step
	// cannot start by then (the store hung or down) gives up with
	// Reply.Retry, having done nothing, so an adapter that must answer
	// within a platform's deadline can tell it to redeliver. The step and
	// the commit are not bounded by it.
	StartBy time.Time
	// Close ends the conversation for good (a phone call hung up): after
	// the turn, a closed mark replaces the session for Options.CloseKeep,
	// and any later turn of the conversation gets a Reply with Closed set
	// and no outputs, instead of starting over.
	Close bool
}

// ExpectKind says what input the next turn should carry.
type ExpectKind uint8

// Expected input kinds; renderers choose widgets from them.
const (
	ExpectNone ExpectKind = iota
	ExpectText
	ExpectChoice
	ExpectDigits
	ExpectSecret
)

// Choice is one option the user may pick.
type Choice struct {
	ID        string `json:"id"`
	MessageID string `json:"m"`
	// Key, when set, is the digit that picks this choice on a keypad or in
	// a numbered list, so an option keeps its number from one menu to the
	// next ("4 for email" stays 4 after the text message was used). Zero:
	// its position, from 1.
	Key int `json:"n,omitempty"`
	// ChatOnly marks a choice a keypad channel leaves out (a flow that
	// needs a screen). Left out only at the end of a menu, so that the
	// keys of the other choices stay the engine's.
	ChatOnly bool `json:"c,omitempty"`
}

// Digit is the number that picks the choice at position i (from 0).
func (c Choice) Digit(i int) int {
	if c.Key > 0 {
		return c.Key
	}
	return i + 1
}

// ChoiceFor returns the ID of the choice that digit n picks, if any.
func (e Expect) ChoiceFor(n int) (string, bool) {
	for i, c := range e.Choices {
		if c.Digit(i) == n {
			return c.ID, true
		}
	}
	return "", false
}

// Expect describes the input the flow waits for.
//
// Choices on an ExpectText, ExpectDigits or ExpectSecret input are side
// actions offered next to the field ("Use a text message instead",
// "Different account"): chat adapters render them as buttons beside the
// input, and on a keypad a single key that is a choice's Digit picks it when
// the field wants more digits than one (the engine maps it, see
// choiceFromDigits), so the caller can press "2#" instead of a code.
type Expect struct {
	Kind    ExpectKind `json:"k,omitempty"`
	Choices []Choice   `json:"c,omitempty"`
	// MinDigits and MaxDigits bound keypad input.
	MinDigits int `json:"mi,omitempty"`
	MaxDigits int `json:"ma,omitempty"`
	// Confirm asks for masked input twice (a new password).
	Confirm bool `json:"cf,omitempty"`
	// FieldID is the message ID labelling the input field.
	FieldID string `json:"f,omitempty"`
}

// Output is one neutral message to the user: a catalogued message ID with
// arguments (never a secret), and what input comes next.
type Output struct {
	MessageID string            `json:"id"`
	Args      map[string]string `json:"a,omitempty"`
	Expect    Expect            `json:"e,omitempty"`
	// Sensitive outputs must be shown only privately (DM, ephemeral, modal).
	Sensitive bool `json:"s,omitempty"`
	// Error marks a refusal of the last input (shown inside the modal or card
	// that collected it, when there is one).
	Error bool `json:"er,omitempty"`
	// Attachment carries an image such as an enrollment QR code. It is
	// secret-bearing, so it is never stored with a reply and never logged.
	Attachment *Attachment `json:"-"`
}

// Attachment is binary content to show once, privately.
type Attachment struct {
	Kind string // "qr"
	PNG  []byte
	// Text is the same content for channels that cannot show images.
	Text secret.String
}

// Reply is everything the engine answers to one turn.
type Reply struct {
	Outputs []Output `json:"o"`
	// Ref is the turn's reference ID, shown with errors and logged with causes.
	Ref string `json:"r"`
	// Flow and State are where the session stands after the turn.
	Flow  string `json:"f,omitempty"`
	State string `json:"st,omitempty"`
	// Step names this state of this conversation ("state@id"). Adapters put
	// it in the signed tokens of buttons and forms (Input.State), so a click
	// from another conversation — even one at the same state — is refused.
	Step string `json:"sp,omitempty"`
	// Locale is the language the conversation now speaks (the user's word,
	// the directory's preference, else the turn's locale). Adapters render
	// the outputs in it; empty means the turn's locale.
	Locale string `json:"l,omitempty"`
	// Ended means the conversation is over and the session is gone.
	Ended bool `json:"end,omitempty"`
	// Closed means the conversation was closed for good (Turn.Close): the
	// adapter ends it without a word.
	Closed bool `json:"cl,omitempty"`
	// Duplicate is set when the reply was replayed for a repeated delivery.
	Duplicate bool `json:"-"`
	// NotBefore is the turn's timing floor (see Ctx.EqualizeTo): the reply
	// must not be shown earlier. Engine.Handle waits for it; adapters using
	// Engine.Run delay the reply instead of holding a worker.
	NotBefore time.Time `json:"-"`
	// Retry says the turn did nothing that lasts and must be delivered
	// again: the store was unavailable (acquire or commit failed), the same
	// delivery was running elsewhere (past the wait, or at once with
	// Turn.NoReplay), or the step was cut
	// (its context ended) and its claim released. The outputs are then
	// only a fallback (the catalogued error or busy message): adapters that
	// can have the platform redeliver (Slack: 503; Twilio: a hold and a
	// redirect) should do that instead of showing them.
	Retry bool `json:"-"`
}

// Last returns the last output, which carries what to expect next.
func (r Reply) Last() Output {
	if len(r.Outputs) == 0 {
		return Output{}
	}
	return r.Outputs[len(r.Outputs)-1]
}
