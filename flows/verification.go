package flows

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
)

// varVerification holds the conversation's verification state: one typed,
// versioned value instead of a dozen loose session variables.
const varVerification = "verification"

// verificationVersion is bumped whenever verification changes shape. A
// session stored under another version starts verification over (nothing
// passed): a rolling upgrade can cost a person a code, never let one through.
const verificationVersion = 1

// verification is what the flows remember between turns about who is being
// verified and how far they got. It holds identifiers, counters and outcomes,
// never a secret, and never contact data (destinations are read again from
// the directory at every turn; only a masked form is kept for a prompt).
type verification struct {
	Version int `json:"v"`
	// Login is the identified account's login (the key is engine.VarUser).
	Login string `json:"login,omitempty"`
	// Nobody: identification matched no account; the flow goes on as if it
	// had, and every verification fails.
	Nobody bool `json:"nobody,omitempty"`
	// RegKey is the regulation key of what was typed at the login prompt
	// (an HMAC under the configured key: regulation.Regulator.Typed).
	RegKey string `json:"reg_key,omitempty"`
	// Candidates are the logins an ambiguous identification matched.
	Candidates []string `json:"candidates,omitempty"`
	// Factor is the method being verified now, and Prompt what it asks.
	Factor identity.Factor `json:"factor,omitempty"`
	Prompt identity.Prompt `json:"prompt,omitzero"`
	// Passed are the independence groups passed in this conversation, and
	// Top the strongest strength among them.
	Passed []identity.Group  `json:"passed,omitempty"`
	Top    identity.Strength `json:"top,omitempty"`
	// Trail is factor:outcome of the attempts, for the escalation packet.
	Trail []FactorAttempt `json:"trail,omitempty"`
	// Alts are the other methods offered next to the live challenge's
	// prompt ("use a text message instead"), computed when it was issued.
	Alts []identity.Factor `json:"alts,omitempty"`
	// To is the masked destination the live challenge was sent to
	// ("•••• 0102"), told in its prompt only after a first factor passed
	// (before, it would tell whether the account has one).
	To string `json:"to,omitempty"`
	// ViaHint: the account was picked from the platform identity (Hints),
	// not typed; the prompts name it and offer "different account".
	ViaHint bool `json:"via_hint,omitempty"`
	// NoHint: the person chose "different account"; the hints are not
	// used again in this conversation.
	NoHint bool `json:"no_hint,omitempty"`
	// Sends counts codes sent in this conversation (methods that send
	// something; an authenticator prompt sends nothing).
	Sends int `json:"sends,omitempty"`
	// Lang is the account's preferred language from the directory, spoken
	// once verification completes.
	Lang string `json:"lang,omitempty"`
	// VerifiedAt is when verification completed (Unix seconds).
	VerifiedAt int64 `json:"verified_at,omitempty"`
	// DenyReason is the regulator's reason when attempts were refused.
	DenyReason string `json:"deny_reason,omitempty"`
	// Questions is the security-question round in progress.
	Questions questionRound `json:"questions,omitzero"`
	// Readback is the agent-assisted read-back in progress (verify flow).
	Readback readback `json:"readback,omitzero"`
}

// questionRound is a round of security questions.
type questionRound struct {
	Pick  []string `json:"pick,omitempty"`
	Index int      `json:"index,omitempty"`
	Wrong bool     `json:"wrong,omitempty"`
}

// readback tracks the phrase shown to the person for the agent to hear.
type readback struct {
	// Shown is when the phrase was shown (Unix seconds); the phrase itself
	// lives only in the handoff, as a keyed hash.
	Shown int64 `json:"shown,omitempty"`
}

// loadV returns the session's verification state (zero when none, or when
// stored under another version).
func loadV(s *engine.Session) verification {
	var v verification
	if raw := s.Get(varVerification); raw != "" {
		if err := json.Unmarshal([]byte(raw), &v); err != nil || v.Version != verificationVersion {
			v = verification{}
		}
	}
	v.Version = verificationVersion
	return v
}

// saveV stores v in the session.
func saveV(s *engine.Session, v verification) {
	v.Version = verificationVersion
	b, err := json.Marshal(v)
	if err != nil {
		// Plain strings, ints and slices: Marshal cannot fail.
		panic("flows: encode verification: " + err.Error())
	}
	s.Set(varVerification, string(b))
}

// updateV changes the session's verification state in place.
func updateV(s *engine.Session, f func(*verification)) {
	v := loadV(s)
	f(&v)
	saveV(s, v)
}

// passed reports whether group g was passed.
func (v *verification) passed(g identity.Group) bool { return slices.Contains(v.Passed, g) }

// pass records a passed method.
func (v *verification) pass(m identity.Method) {
	if !v.passed(m.Group()) {
		v.Passed = append(v.Passed, m.Group())
	}
	v.Top = max(v.Top, m.Strength())
}

// restart forgets every passed factor (a stale verification).
func (v *verification) restart() {
	v.Passed, v.Top, v.VerifiedAt = nil, 0, 0
}

// attempt appends factor:outcome to the trail (bounded).
func (v *verification) attempt(factor, outcome string) {
	v.Trail = append(v.Trail, FactorAttempt{Factor: factor, Outcome: outcome})
	if len(v.Trail) > 12 {
		v.Trail = v.Trail[len(v.Trail)-12:]
	}
}

// verifiedAt returns when verification completed (zero: not yet).
func (v *verification) verifiedAt() time.Time {
	if v.VerifiedAt == 0 {
		return time.Time{}
	}
	return time.Unix(v.VerifiedAt, 0)
}
