package twilio

import (
	"context"
	"fmt"
	"strings"

	api "github.com/twilio/twilio-go/rest/api/v2010"
	verify "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/resetbot/resetbot/core/notify"
)

// SMS returns the Sender for text messages. With the Verify API, codes go
// through Verify (our code as its custom code, so the flows still check it);
// passphrases and notices always go through the Messaging API, since Verify
// sends nothing but codes.
func (c *Client) SMS() notify.Sender { return notify.SenderFunc(c.sendSMS) }

func (c *Client) sendSMS(ctx context.Context, m notify.Message) error {
	if m.Body.Empty() || m.To == "" {
		return notify.ErrInvalidMessage
	}
	if err := c.guard.Take(ctx, m.To); err != nil {
		return fmt.Errorf("sms refused: %w", err)
	}
	if c.cfg.API == APIVerify && m.Kind == notify.KindCode {
		code := codeIn(m.Body.Reveal())
		if code == "" {
			return fmt.Errorf("sms: %w (no code in body)", notify.ErrInvalidMessage)
		}
		p := (&verify.CreateVerificationParams{}).SetTo(m.To).SetChannel("sms").SetCustomCode(code)
		if loc := lang(m.Locale); loc != "" {
			p.SetLocale(loc)
		}
		if _, err := do(ctx, func() (*verify.VerifyV2Verification, error) {
			return c.rc.VerifyV2.CreateVerification(c.cfg.VerifyServiceSID, p)
		}); err != nil {
			return fmt.Errorf("sms via verify: %w", err)
		}
		return nil
	}
	p := (&api.CreateMessageParams{}).SetTo(m.To).SetFrom(c.cfg.From).SetBody(m.Body.Reveal())
	if _, err := do(ctx, func() (*api.ApiV2010Message, error) { return c.rc.Api.CreateMessage(p) }); err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	return nil
}

// codeIn finds the one-time code in a rendered code message: the first run
// of at least six digits (the minutes of validity are shorter). Codes are at
// least six digits (core/identity/code).
func codeIn(body string) string {
	run := 0
	for i := 0; i <= len(body); i++ {
		if i < len(body) && body[i] >= '0' && body[i] <= '9' {
			run++
			continue
		}
		if run >= 6 && run <= 10 {
			return body[i-run : i]
		}
		run = 0
	}
	return ""
}

// lang returns the base language of a locale ("es-MX" → "es").
func lang(locale string) string {
	l, _, _ := strings.Cut(strings.ToLower(locale), "-")
	return l
}
