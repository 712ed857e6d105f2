package api_test

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/api"
	"github.com/resetbot/resetbot/core/handoff/apikey"
	"github.com/resetbot/resetbot/core/handoff/escalate"
	"github.com/resetbot/resetbot/core/handoff/webhook"
	"github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/plugins"
)

// Example_wiring shows how the application puts the handoff pieces together
// from the configuration: the webhook Sender, the key Set, the Store with the
// completion Notifier as its terminal hook, the API handler and the
// escalation Sink.
func Example_wiring() {
	cfg := config.Default(plugins.All())
	st := memory.New() // app.Store in the application
	hmacKey := []byte("derive-me-from-cfg.Keys.HMAC-32b")
	log, sink := slog.Default(), audit.Discard

	sender := webhook.NewSender(webhook.Options{Timeout: cfg.Handoff.WebhookTimeout, Log: log})
	defer sender.Close()
	keys, err := apikey.Load(nil) // handoff.api_keys, mapped to []apikey.Setting by the application
	if err != nil {
		panic(err)
	}
	var liveStatus handoff.ChangeHook // the chat adapters' agent thread/card updater
	store := handoff.NewStore(st, hmacKey, handoff.Options{TTL: cfg.Handoff.TTL, CodeTTL: cfg.Handoff.CodeTTL,
		Audit: sink, Log: log, Changed: liveStatus, Terminal: webhook.NewNotifier(sender, keys, log)})

	var starter handoff.Starter = handoff.StarterFunc(func(ctx context.Context, h handoff.Handoff) error {
		return nil // open the DM and start the flow, or IssueCode and text it
	})
	mux := http.NewServeMux() // srv.Handle in the application
	mux.Handle(api.Prefix, api.New(api.Options{Handoffs: store, Starter: starter, Store: st, Audit: sink, Log: log,
		Guard: &apikey.Guard{Keys: keys, Limiter: apikey.NewLimiter(st, cfg.Handoff.RatePerMinute), Audit: sink, Log: log}}))

	esc := escalate.New(escalate.Options{Sender: sender, Audit: sink, Log: log,
		Ticket:  webhook.Target{Name: "ticket", URL: cfg.Handoff.TicketWebhookURL, Secret: cfg.Handoff.TicketWebhookSecret},
		Posters: map[string]escalate.Poster{ /* "slack": slackPoster, "teams": teamsPoster */ }})
	defer esc.Close()
	// Output:
}
