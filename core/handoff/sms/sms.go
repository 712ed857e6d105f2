// Package sms starts SMS handoffs: the help desk hands a person to the phone
// line by texting them a one-time handoff code and the number to call. The
// caller types the code and skips identification; the call still verifies
// them.
//
// It is the handoff domain's own starter for handoff.ChannelSMS, next to the
// chat channels' starters (core/channel.HandoffStarter).
package sms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/core/secret"
)

// MessageID is the catalogued text of the SMS; its arguments are "code"
// and "number".
const MessageID = "handoff.sms"

// Codes issues a handoff's one-time phone code (core/handoff.Store).
type Codes interface {
	IssueCode(ctx context.Context, id string) (secret.String, time.Time, error)
}

// Accounts finds directory accounts (core/directory.Directory).
type Accounts interface {
	Find(ctx context.Context, key directory.Key, value string) ([]directory.User, error)
}

// Budget counts an SMS handoff code in the send budgets of every code
// (core/regulation.Regulator).
type Budget interface {
	AllowSend(ctx context.Context, dest string, userKey string) (regulation.Decision, error)
}

// Renderer renders the catalogued SMS (core/messages.Catalog).
type Renderer interface {
	Text(locale, id string, voice bool, args map[string]string) string
}

// Starter is the handoff.Starter of SMS handoffs. Codes, Sender, Number,
// Accounts and Messages are required; Budget nil sends without a budget
// (tests).
type Starter struct {
	Codes    Codes
	Sender   notify.Sender
	Accounts Accounts
	Messages Renderer
	Budget   Budget
	// Number is the phone line the person is told to call (E.164).
	Number string
}

var _ handoff.Starter = (*Starter)(nil)

// ErrNotConfigured means SMS handoffs have no SMS provider or no number to
// call.
var ErrNotConfigured = errors.New("handoff: SMS handoffs need an SMS provider and channels.twilio.from_number")

// Start texts the phone handoff code to the account's mobile number of
// record — never to a number the requester typed — with the number of the
// phone line to call. h.User is a login or an e-mail address.
func (s *Starter) Start(ctx context.Context, h handoff.Handoff) error {
	if s == nil || s.Sender == nil || s.Number == "" {
		return ErrNotConfigured
	}
	key := directory.ByLogin
	if strings.Contains(h.User, "@") {
		key = directory.ByEmail
	}
	users, err := s.Accounts.Find(ctx, key, h.User)
	if err != nil {
		return fmt.Errorf("handoff: look up user: %w", err)
	}
	if len(users) != 1 || users[0].Mobile == "" {
		return errors.New("handoff: no single account with a mobile number of record")
	}
	// An SMS handoff is a code like any other: the same per-destination,
	// per-user and global hourly budgets apply, so an API key cannot flood
	// an employee's phone.
	u := users[0]
	if s.Budget != nil {
		dec, err := s.Budget.AllowSend(ctx, u.Mobile, u.Directory+":"+u.ID)
		if err != nil {
			return fmt.Errorf("handoff: send budget: %w", err)
		}
		if !dec.Allowed {
			return fmt.Errorf("handoff: send budget spent (%s)", dec.Reason)
		}
	}
	code, _, err := s.Codes.IssueCode(ctx, h.ID)
	if err != nil {
		return err
	}
	args := map[string]string{"code": code.Reveal(), "number": s.Number}
	return s.Sender.Send(ctx, notify.Message{Kind: notify.KindCode, To: u.Mobile, Summary: MessageID,
		Body: secret.New(s.Messages.Text("", MessageID, false, args))})
}
