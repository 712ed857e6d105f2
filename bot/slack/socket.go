package slack

import (
	"context"
	"errors"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// maxSocketHandlers bounds the envelopes handled at once; each waits at most
// AckBudget (an event's turn) or SubmitWait (a modal submission).
const maxSocketHandlers = 64

// RunSocketMode connects to Slack with the app-level token and serves
// events, interactions and slash commands over the WebSocket until ctx is
// done. The library reconnects by itself; RunSocketMode returns ctx's error
// or a fatal connection error (such as an invalid token).
func (b *Bot) RunSocketMode(ctx context.Context) error {
	if b.o.Config.AppToken.Empty() {
		return errors.New("slack: socket mode needs an app-level token")
	}
	client := socketmode.New(b.api)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- client.RunContext(ctx) }()
	sem := make(chan struct{}, maxSocketHandlers)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-runErr:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		case evt := <-client.Events:
			if evt.Request == nil || !enveloped(evt.Type) {
				b.socketStatus(evt)
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			go func() {
				defer func() { <-sem }()
				b.onEnvelope(ctx, client, evt)
			}()
		}
	}
}

// enveloped says whether a Socket Mode event is a request to ack.
func enveloped(t socketmode.EventType) bool {
	return t == socketmode.EventTypeEventsAPI || t == socketmode.EventTypeInteractive || t == socketmode.EventTypeSlashCommand
}

func (b *Bot) socketStatus(evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		b.log.Info("slack socket mode connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth:
		b.log.Warn("slack socket mode connection problem", "type", string(evt.Type))
	}
}

// onEnvelope acks one Socket Mode request. When the pool is full, or a
// turn did not commit and post its reply within AckBudget (SubmitWait for
// a modal), the ack is withheld, as a 503 over HTTP: Slack redelivers an
// event later, and shows the person an error for an interaction or a
// command.
func (b *Bot) onEnvelope(ctx context.Context, c *socketmode.Client, evt socketmode.Event) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("slack socket handler panicked")
		}
	}()
	var (
		resp  any
		after func()
		err   error
	)
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if ok {
			err = b.onEvent(ctx, ev)
		}
	case socketmode.EventTypeInteractive:
		ic, ok := evt.Data.(slack.InteractionCallback)
		if ok {
			resp, after, err = b.onInteraction(ctx, ic)
		}
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if ok {
			resp, err = b.onCommand(ctx, cmd)
		}
	}
	if errors.Is(err, errBusy) {
		return
	}
	if resp != nil {
		err = c.Ack(*evt.Request, resp)
	} else {
		err = c.Ack(*evt.Request)
	}
	if err != nil {
		b.log.Warn("slack socket ack failed", "err", err)
	}
	if after != nil {
		after()
	}
}
