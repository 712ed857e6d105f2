package alarm

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/resetbot/resetbot/core/handoff/webhook"
)

// webhookBody is the JSON an alert webhook receives.
type webhookBody struct {
	Type string `json:"type"`
	Alert
}

// Webhook returns a Notifier that posts each alert as signed JSON
// ({"type":"resetbot.alarm", ...}, X-Resetbot-Signature as for every resetbot
// webhook) through s's bounded queue.
func Webhook(s *webhook.Sender, t webhook.Target) Notifier {
	return NotifierFunc(func(ctx context.Context, a Alert) error {
		body, err := json.Marshal(webhookBody{Type: "resetbot.alarm", Alert: a})
		if err != nil {
			return fmt.Errorf("alarm: %w", err)
		}
		return s.Send(ctx, t, body)
	})
}

// Fanout returns a Notifier that notifies each in turn and returns the
// first error after trying all.
func Fanout(ns ...Notifier) Notifier {
	return NotifierFunc(func(ctx context.Context, a Alert) error {
		var first error
		for _, n := range ns {
			if n == nil {
				continue
			}
			if err := n.Notify(ctx, a); err != nil && first == nil {
				first = err
			}
		}
		return first
	})
}
