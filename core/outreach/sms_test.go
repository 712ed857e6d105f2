package outreach_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/outreach"
)

// TestSMSFallback: the opt-in SMS messenger reaches the directory mobile
// with the catalogued text and no buttons; no mobile is unmapped.
func TestSMSFallback(t *testing.T) {
	cat, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	var sent []notify.Message
	s := &outreach.SMS{Render: cat.Text, Sender: notify.SenderFunc(func(_ context.Context, m notify.Message) error {
		sent = append(sent, m)
		return nil
	})}
	ctx := context.Background()
	if _, err := s.Resolve(ctx, directory.User{Email: "a@example.org"}); !errors.Is(err, outreach.ErrUnmapped) {
		t.Fatalf("no mobile: %v", err)
	}
	r, err := s.Resolve(ctx, directory.User{Mobile: "+15555550101"})
	if err != nil || r.Channel != outreach.ChannelSMS {
		t.Fatalf("Resolve = %+v, %v", r, err)
	}
	err = s.Send(ctx, r, outreach.Notice{Ref: "r1", MessageID: "outreach.lockout", Locale: "fr",
		Args: map[string]string{"when": "2026-12-07 07:12 CET"}})
	if err != nil || len(sent) != 1 {
		t.Fatalf("Send: %v, %d sent", err, len(sent))
	}
	m := sent[0]
	if m.To != "+15555550101" || m.Kind != notify.KindNotice || !strings.Contains(m.Body.Reveal(), "07:12 CET") ||
		!strings.Contains(m.Body.Reveal(), "verrouillé") {
		t.Fatalf("message %v body %q", m, m.Body.Reveal())
	}
}
