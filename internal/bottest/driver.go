package bottest

import (
	"testing"
	"time"
)

// Flow names a conversation the person asks for.
type Flow string

// The flows the suite plays.
const (
	Reset  Flow = "reset"
	Unlock Flow = "unlock"
	Enroll Flow = "enroll"
)

// Scenario names one conversation of the suite.
type Scenario string

// The scenarios every driver must play or declare as impossible.
const (
	ScenarioReset      Scenario = "reset"
	ScenarioUnlock     Scenario = "unlock"
	ScenarioEnroll     Scenario = "enroll"
	ScenarioStale      Scenario = "stale_choice"
	ScenarioForged     Scenario = "forged_delivery"
	ScenarioReplay     Scenario = "replayed_delivery"
	ScenarioBusy       Scenario = "busy_session"
	ScenarioEscalation Scenario = "escalation"
	ScenarioExpiry     Scenario = "expiry"
	ScenarioBadInput   Scenario = "bad_input"
)

// Scenarios lists every scenario in the order Run plays them.
var Scenarios = []Scenario{ScenarioReset, ScenarioUnlock, ScenarioEnroll, ScenarioStale, ScenarioForged,
	ScenarioReplay, ScenarioBusy, ScenarioEscalation, ScenarioExpiry, ScenarioBadInput}

// Driver plays one channel. It must not name platform types in what it
// returns: the suite sees only Screens and neutral captures.
type Driver interface {
	// Name names the channel in subtest names ("slack-events", "phone").
	Name() string
	// Lacks lists the scenarios this channel cannot play, each with the
	// reason (a phone has no authenticator setup, a terminal no platform
	// redeliveries). A scenario listed here must also lack the capability
	// it needs; one neither supported nor listed fails the suite.
	Lacks() map[Scenario]string
	// Open builds the channel on a fresh demo resetbot (memory store, demo
	// directory, codes to an outbox or a fake provider) with every
	// captured stream empty. Each scenario opens its own.
	Open(t *testing.T) Channel
}

// Renderer renders catalogued messages (core/messages.Catalog does).
type Renderer interface {
	Text(locale, id string, voice bool, args map[string]string) string
}

// Channel is one open channel: one person talking to resetbot. Methods fail
// the test on a transport error (a refused delivery that should have been
// accepted); what the bot answered is returned, never judged.
type Channel interface {
	// Start opens a conversation as the demo account login asking for
	// flow, identified the way the channel identifies people (a chat
	// profile, an employee number keyed on the phone), and returns the
	// first prompt after identification.
	Start(flow Flow, login string) Screen
	// Say types text in the conversation (keys it, on a keypad).
	Say(text string) Screen
	// Choose picks the choice labelled by the catalogued message labelID
	// on screen on (which may be an earlier screen than the newest).
	Choose(on Screen, labelID string) Screen
	// Masked fills the masked entry the newest screen opened (a modal, a
	// hidden prompt) with value and, when it asks twice, confirm.
	Masked(value, confirm string) Screen
	// AskForPerson asks for a person the way the channel offers it
	// ("agent" typed in chat, zero on a keypad).
	AskForPerson() Screen
	// Authenticator sets up an authenticator app for login out of band, as
	// an earlier enrollment would have, and returns its seed; the suite
	// types its codes. The driver moves its clock past the confirming
	// code's time step, so the next code is new.
	Authenticator(login string) (seed string)
	// Code returns the newest one-time code delivered out of band (SMS,
	// email, voice call); Sent counts those deliveries so far.
	Code() string
	Sent() int
	// Messages renders catalogued texts; Voice says whether this channel
	// speaks them (the voice variant); both in English.
	Messages() Renderer
	Voice() bool
	// Captured returns everything resetbot wrote so far, for the sweep.
	Captured() Captured
}

// Screen is what the person was shown in answer to one action.
type Screen struct {
	// Text is every message shown (or spoken), joined by newlines.
	Text string
	// Choices are the labels of the choices offered.
	Choices []string
	// Masked says a masked entry is open or one click away.
	Masked bool
	// Waiting says the person was asked to wait while the channel resumes
	// the turn by itself (a phone's hold prompt and redirect).
	Waiting bool
	// Raw is the driver's own record of the rendering (posted messages,
	// a card, a TwiML document), for Choose on an earlier screen.
	Raw any
}

// Replayer redelivers the last delivery exactly as the platform retries it
// (same event ID, same signed body, same gather).
type Replayer interface {
	Replay() Screen
}

// Forger delivers the choice labelled labelID on screen on as a forger
// would, which the channel must refuse before it acts: the click with its
// signed token altered, or the key press with a forged webhook signature.
type Forger interface {
	Forge(on Screen, labelID string) Screen
}

// Holder takes the person's conversation lease as another turn would (a
// failover, another replica), until release is called.
type Holder interface {
	Hold() (release func())
}

// Clock moves the time resetbot sees.
type Clock interface {
	Advance(d time.Duration)
	Now() time.Time
}

// Issuer is a channel that hands the person other secrets out of band (a
// temporary password by text message, on the phone); the sweep greps for
// them too.
type Issuer interface {
	Issued() []string
}

// Renamer is a channel that renders some engine messages under its own
// catalogued ID (the phone says twilio.expired for common.expired).
type Renamer interface {
	Rename(id string) string
}

// Enroller reads the authenticator setup key the person was shown (on a
// one-time page, a card, the terminal).
type Enroller interface {
	Seed() string
}

// Captured is what resetbot wrote: every stream the sweep greps.
type Captured struct {
	// Logs and Audit are the operational log and the audit trail.
	Logs, Audit string
	// Stored are the store's values (and keys), as stored.
	Stored []string
	// Outbound are the bodies (and URLs) resetbot sent to the channel's
	// platform and to webhooks: API calls, TwiML answered, card writes,
	// help-desk packets. Out-of-band deliveries to the person (the SMS
	// carrying a code) are not channel output and are not included.
	Outbound []string
}
