package outreach

import (
	"context"
	"fmt"
	"strings"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/secret"
)

// ChannelSMS is the Recipient channel of text-message notices.
const ChannelSMS = "sms"

// SMS is the opt-in fallback messenger (outreach.sms): a user on no chat
// platform gets the notice as a text to the directory's mobile number. A
// text has no buttons; it says what happened and to ask the bot (Not me
// goes through the help desk). The number comes from the directory, never
// from a user.
type SMS struct {
	Sender notify.Sender
	// Render is the message catalog's Text.
	Render func(locale, id string, voice bool, args map[string]string) string
}

var _ DirectMessenger = (*SMS)(nil)

// Channel implements DirectMessenger.
func (s *SMS) Channel() string { return ChannelSMS }

// Resolve implements DirectMessenger: the account's mobile, or unmapped.
func (s *SMS) Resolve(_ context.Context, u directory.User) (Recipient, error) {
	if !strings.HasPrefix(u.Mobile, "+") {
		return Recipient{}, ErrUnmapped
	}
	return Recipient{Channel: ChannelSMS, User: u.Mobile}, nil
}

// Send implements DirectMessenger with the notice's "<id>_sms" text.
func (s *SMS) Send(ctx context.Context, r Recipient, n Notice) error {
	body := s.Render(n.Locale, n.MessageID+"_sms", false, n.Args)
	err := s.Sender.Send(ctx, notify.Message{Kind: notify.KindNotice, To: r.User, Body: secret.New(body),
		Summary: n.MessageID + "_sms", Locale: n.Locale})
	if err != nil {
		return fmt.Errorf("%w: sms: %w", ErrUnavailable, err)
	}
	return nil
}
