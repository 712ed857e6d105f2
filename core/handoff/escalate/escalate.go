// Package escalate hands a case from the bot to people: when a flow ends in
// escalation (lockout by regulation, repeated failures, nothing enrolled, the
// user asking for a person), a context packet goes to a signed ticket webhook
// and to help-desk channels in Slack or Teams (Poster).
//
// A packet never holds a secret. It is built by the flows from fixed fields
// (no free text the user typed); Sanitize masks e-mail addresses and phone
// numbers with core/audit's MaskEmail/MaskPhone and replaces anything that is
// not a plain identifier with "[redacted]", so even a flow mistake cannot
// push a typed password into a help-desk channel.
package escalate

import (
	"regexp"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/audit"
)

// FactorAttempt is one verification attempt: the factor and its outcome.
type FactorAttempt struct {
	Factor  string `json:"factor"`
	Outcome string `json:"outcome"`
}

// Packet is the context the help desk gets (mirrors flows.Escalation).
type Packet struct {
	// Ref is the reference ID the user was shown.
	Ref string `json:"ref"`
	// Reason is why the bot escalated (lockout:banned, asked_for_agent, ...).
	Reason  string `json:"reason"`
	Channel string `json:"channel"`
	// User is the directory user, empty when never identified.
	User  string `json:"user,omitempty"`
	Flow  string `json:"flow,omitempty"`
	State string `json:"state,omitempty"`
	// Factors are the verification attempts, in order.
	Factors []FactorAttempt `json:"factors,omitempty"`
	// Messages is the conversation as catalogue message IDs.
	Messages []string  `json:"messages,omitempty"`
	Time     time.Time `json:"time"`
	// OfRecord lists the factors the account has of record (factor names).
	OfRecord []string `json:"of_record,omitempty"`
	// Alert marks a security alert (the person said "not me" to an
	// agent-assisted verification), not a request for help.
	Alert bool `json:"alert,omitempty"`
}

// Redacted replaces a value that is not a plain identifier.
const Redacted = "[redacted]"

// Bounds of a sanitized packet.
const (
	MaxMessages = 50
	MaxFactors  = 20
	maxField    = 128
)

var (
	// ident is what an identifier-like field may contain: no spaces, no
	// markup characters (<, >, &, *, `) that a chat renderer would act on.
	ident = regexp.MustCompile(`^[A-Za-z0-9._:/@+-]{1,128}$`)
	// msgID is the shape of a catalogue message ID (reset.code_sent).
	msgID = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)+$`)
	// phoneLike is a run of 8 or more digits, possibly with a leading +.
	phoneLike = regexp.MustCompile(`^\+?[0-9 ().-]{8,}$`)
)

// Sanitize returns p with e-mail addresses and phone numbers masked, values
// that are not identifiers redacted, lists bounded and the time in UTC.
func Sanitize(p Packet) Packet {
	out := Packet{Ref: field(p.Ref), Reason: field(p.Reason), Channel: field(p.Channel), User: person(p.User),
		Flow: field(p.Flow), State: field(p.State), Time: p.Time.UTC(), Alert: p.Alert}
	for i, f := range p.OfRecord {
		if i == MaxFactors {
			break
		}
		out.OfRecord = append(out.OfRecord, field(f))
	}
	for i, f := range p.Factors {
		if i == MaxFactors {
			break
		}
		out.Factors = append(out.Factors, FactorAttempt{Factor: field(f.Factor), Outcome: field(f.Outcome)})
	}
	msgs := p.Messages
	if len(msgs) > MaxMessages {
		msgs = msgs[len(msgs)-MaxMessages:] // the end of the conversation matters most
	}
	for _, m := range msgs {
		if !msgID.MatchString(m) || len(m) > maxField {
			m = Redacted
		}
		out.Messages = append(out.Messages, m)
	}
	return out
}

// field keeps an identifier, masks a contact and redacts anything else.
func field(v string) string {
	switch {
	case v == "":
		return ""
	case strings.Contains(v, "@") || phoneLike.MatchString(v):
		return person(v)
	case ident.MatchString(v):
		return v
	}
	return Redacted
}

// person masks an e-mail address or phone number; a login stays readable.
func person(v string) string {
	switch {
	case v == "":
		return ""
	case strings.Contains(v, "@"):
		return audit.MaskEmail(v)
	case phoneLike.MatchString(v):
		return audit.MaskPhone(v)
	case ident.MatchString(v):
		return v
	}
	return Redacted
}

// Render writes a sanitized packet as plain text from its fixed fields, for
// a help-desk channel or a ticket body. It sanitizes p itself.
func Render(p Packet) string {
	p = Sanitize(p)
	var b strings.Builder
	line := func(label, v string) {
		if v != "" {
			b.WriteString(label + ": " + v + "\n")
		}
	}
	if p.Alert {
		b.WriteString("SECURITY ALERT: ")
	}
	b.WriteString("resetbot escalation " + p.Ref + "\n")
	line("Reason", p.Reason)
	user := p.User
	if user == "" {
		user = "(not identified)"
	}
	line("User", user)
	if p.User != "" {
		rec := strings.Join(p.OfRecord, ", ")
		if rec == "" {
			rec = "none"
		}
		line("Factors of record", rec)
	}
	line("Channel", p.Channel)
	flow := p.Flow
	if p.State != "" {
		flow += " (state " + p.State + ")"
	}
	line("Flow", strings.TrimSpace(flow))
	var fs []string
	for _, f := range p.Factors {
		fs = append(fs, f.Factor+" "+f.Outcome)
	}
	if len(fs) == 0 {
		fs = []string{"none"}
	}
	line("Factors tried", strings.Join(fs, ", "))
	line("Conversation", strings.Join(p.Messages, ", "))
	if !p.Time.IsZero() {
		line("Time", p.Time.Format(time.RFC3339))
	}
	return b.String()
}
