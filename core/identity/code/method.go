package code

import (
	"context"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
)

// Method plugs a sent one-time code into the flows: SMS and a call to the
// mobile number of record (group "phone", restricted), or email to the
// personal/recovery address of record (group "email"). Build them with SMS,
// Voice and Email.
type Method struct {
	codes    *Codes
	factor   identity.Factor
	group    identity.Group
	strength identity.Strength
	dest     func(identity.Subject) string
}

var (
	_ identity.Method   = (*Method)(nil)
	_ identity.Destined = (*Method)(nil)
	_ identity.Canceler = (*Method)(nil)
)

// SMS returns the text-message method (destination: the mobile of record).
func SMS(c *Codes) *Method {
	return &Method{codes: c, factor: identity.FactorSMS, group: identity.GroupPhone, strength: identity.StrengthPhone,
		dest: func(s identity.Subject) string { return s.Mobile }}
}

// Voice returns the phone-call method; it shares the "phone" group with SMS:
// both prove possession of the same phone number.
func Voice(c *Codes) *Method {
	return &Method{codes: c, factor: identity.FactorVoice, group: identity.GroupPhone, strength: identity.StrengthPhone,
		dest: func(s identity.Subject) string { return s.Mobile }}
}

// Email returns the email method. Its destination is only the personal or
// recovery address of record: the account's own work mailbox is never a
// factor (whoever holds the password holds that mailbox).
func Email(c *Codes) *Method {
	return &Method{codes: c, factor: identity.FactorEmail, group: identity.GroupEmail, strength: identity.StrengthEmail,
		dest: func(s identity.Subject) string { return s.RecoveryEmail }}
}

// Factor implements identity.Method.
func (m *Method) Factor() identity.Factor { return m.factor }

// Group implements identity.Method.
func (m *Method) Group() identity.Group { return m.group }

// Strength implements identity.Method.
func (m *Method) Strength() identity.Strength { return m.strength }

// Destination implements identity.Destined.
func (m *Method) Destination(s identity.Subject) string {
	if s.Nobody() {
		return ""
	}
	return m.dest(s)
}

// Has reports whether the subject has a destination of record.
func (m *Method) Has(_ context.Context, s identity.Subject) (bool, error) {
	return m.Destination(s) != "", nil
}

// Challenge issues a code and, with a Courier, sends it to the destination of
// record. Without one (no destination, nobody) the code is still issued and
// never sent, so expiry, attempts and resends behave exactly the same. A
// resend within the cooldown keeps the code sent moments ago, and the same
// platform delivery retried (ch.Attempt; a turn cut by a failover after its
// send) keeps the code its first try sent and sends nothing.
func (m *Method) Challenge(ctx context.Context, ch identity.Challenge) (identity.Prompt, error) {
	p := identity.Prompt{MessageID: "code.prompt." + string(m.factor), Digits: m.codes.opts.Digits}
	to := m.Destination(ch.Subject)
	issueTo := to
	if issueTo == "" {
		issueTo = "none:" + string(m.factor) + ":" + ch.Key
	}
	iss, err := m.codes.IssueAttempt(ctx, ch.Key, m.factor, issueTo, ch.Attempt)
	if err != nil {
		return p, err
	}
	if iss.Wait > 0 || iss.Again || ch.Courier == nil || to == "" {
		return p, nil
	}
	return p, ch.Courier.Deliver(ctx, identity.Delivery{Channel: string(m.factor), To: to,
		MessageID: "otp." + string(m.factor), Code: iss.Code, ExpiresAt: iss.ExpiresAt})
}

// Verify checks the code of the challenge.
func (m *Method) Verify(ctx context.Context, ch identity.Challenge, answer secret.String) (identity.Result, error) {
	return m.codes.CheckAttempt(ctx, ch.Key, answer, ch.Attempt)
}

// Cancel voids the challenge's live code.
func (m *Method) Cancel(ctx context.Context, ch identity.Challenge) error {
	return m.codes.Cancel(ctx, ch.Key)
}
