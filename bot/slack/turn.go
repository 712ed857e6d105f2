package slack

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
)

// job is one turn to run after Slack has been acknowledged.
type job struct {
	team, user string
	// channel is where replies go (the DM); "" opens the DM.
	channel string
	// notice is a channel where the user invoked the bot in public: it gets
	// only an ephemeral "continue in DM" note.
	notice   string
	delivery string
	input    engine.Input
	// trigger, when set, is the trigger_id of the click, command or
	// shortcut that started the turn, received at triggerAt: it opens the
	// modal of a masked prompt at once (openNext).
	trigger   string
	triggerAt time.Time
	// view is the modal whose side-choice button started the turn: it is
	// updated with the next prompt (updateModal).
	view string
	// clicked is the message whose choice button started the turn; its
	// buttons are replaced by the chosen label once the turn has run.
	clicked *clickedMessage
	// verdict, set for a request run before its ack (runBeforeAck),
	// receives whether Slack may be acknowledged.
	verdict chan verdict
	// waiting, set with verdict, ends when the request stops waiting for
	// it (answered 503 at the end of the ack budget).
	waiting context.Context
	// redelivered is set for events, which Slack delivers again when they
	// are not acknowledged (interactions and commands it does not).
	redelivered bool
}

// ServedEvents are the Events API event types the bot acts on; the manifest
// subscribes to exactly these.
var ServedEvents = []string{"message.im", "app_mention", "app_home_opened"}

var mention = regexp.MustCompile(`<@[A-Z0-9]+(\|[^>]*)?>`)

func typed(s string) engine.Input {
	return engine.Input{Kind: engine.InputText, Value: secret.New(strings.TrimSpace(s))}
}

// onEvent handles an authenticated Events API callback. It runs the turn
// before the ack, bounded by AckBudget (runBeforeAck): nil means Slack may
// be acknowledged, an error wrapping errBusy that it must redeliver. The
// engine claims the event_id, so a redelivery acts no more.
func (b *Bot) onEvent(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	if ev.Type != slackevents.CallbackEvent {
		return nil
	}
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || cb == nil || cb.EventID == "" {
		return nil
	}
	if !b.pinned(ctx, origin{ev.TeamID, ev.EnterpriseID, ev.APIAppID}, "event") {
		return nil
	}
	var j job
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		// Only what a person typed in the DM with us; never our own messages,
		// edits, joins or file shares (sub-types), nor other bots.
		if e == nil || e.ChannelType != "im" || e.BotID != "" || e.SubType != "" || e.User == "" {
			return nil
		}
		j = job{team: ev.TeamID, user: e.User, channel: e.Channel, input: typed(e.Text)}
	case *slackevents.AppMentionEvent:
		if e == nil || e.BotID != "" || e.User == "" {
			return nil
		}
		j = job{team: ev.TeamID, user: e.User, notice: e.Channel, input: typed(mention.ReplaceAllString(e.Text, ""))}
	case *slackevents.AppHomeOpenedEvent:
		if e == nil || e.User == "" || e.Tab != "home" {
			return nil
		}
		return b.onHomeOpened(ctx, e.User, cb.EventID)
	default:
		return nil
	}
	j.delivery, j.redelivered = "e:"+cb.EventID, true
	return b.runBeforeAck(ctx, j)
}

// onCommand handles a slash command; the response is the ack body.
func (b *Bot) onCommand(ctx context.Context, c slack.SlashCommand) (any, error) {
	if !b.pinned(ctx, origin{c.TeamID, c.EnterpriseID, c.APIAppID}, "command") {
		return nil, nil
	}
	if c.Command == b.handoffCmd {
		return b.onAgentCommand(ctx, c)
	}
	loc := b.locale(c.UserID)
	var flow string
	switch c.Command {
	case b.reset:
		flow = "reset"
	case b.unlock:
		flow = "unlock"
	default:
		return ephemeral(b.text(loc, "common.unknown_command")), nil
	}
	if c.TriggerID == "" {
		return nil, nil
	}
	// The command's text is ignored: people type passwords anywhere.
	j := job{team: c.TeamID, user: c.UserID, delivery: "c:" + c.TriggerID,
		input: engine.Input{Kind: engine.InputStart, Flow: flow}, trigger: c.TriggerID, triggerAt: b.now()}
	inDM := false
	if p, ok := b.users.Get(c.UserID); ok && p.DM != "" && p.DM == c.ChannelID {
		inDM, j.channel = true, c.ChannelID
	}
	// The ack (and the note that the conversation moved to the DM) comes
	// once the turn is committed and its reply posted: a store that is down
	// or a post that failed is answered 503, and Slack tells the person the
	// command failed instead of the command being lost after an "ok".
	if err := b.runBeforeAck(ctx, j); err != nil {
		return nil, err
	}
	if inDM {
		return nil, nil
	}
	return ephemeral(b.text(loc, "slack.moved_to_dm")), nil
}

func ephemeral(text string) map[string]string {
	return map[string]string{"response_type": "ephemeral", "text": text}
}

func (b *Bot) text(loc, id string) string { return b.o.Messages.Text(loc, id, false, nil) }

// turn runs one engine turn with the user's profile as identity signal.
// ok is false when nothing should be shown (bots, deleted users).
func (b *Bot) turn(ctx context.Context, j job) (r engine.Reply, loc string, ok bool) {
	p, err := b.profile(ctx, j.user)
	if err != nil {
		// Without the profile we cannot tell a guest from an employee:
		// fail closed with a generic message.
		b.log.Warn("slack profile lookup failed", "err", err)
		if j.beforeAck() {
			// Not acknowledged yet: the redelivery tries again.
			j.tell(verdictRetry)
			return r, "", false
		}
		b.post(ctx, j, []slack.Block{section(b.text("", "common.fallback"))}, b.text("", "common.fallback"))
		return r, "", false
	}
	if p.Bot || p.Deleted {
		return r, "", false
	}
	foreign := p.Team != "" && !b.allowedTeam(p.Team)
	if foreign || (p.Guest && !b.o.Config.AllowGuests) {
		b.log.Info("authn.rejected", "reason", "guest or external account", "user", j.user)
		msg := b.text(p.Locale, "chat.not_allowed")
		b.post(ctx, j, []slack.Block{section(msg)}, msg)
		return r, "", false
	}
	// Slack never gets the reply of a repeated delivery (the first one
	// posted it), so the engine keeps only the mark that the delivery ran,
	// and answers a copy in flight at once (Slack redelivers it).
	t := engine.Turn{Channel: Channel, ChannelUser: userKey(j.team, j.user), DeliveryID: j.delivery,
		Locale: p.Locale, Hints: b.hints(ctx, p), Input: j.input,
		NoReplay: true}
	if run, ok := b.o.Engine.(runner); ok {
		r = run.Run(ctx, t)
	} else {
		r = b.o.Engine.Handle(ctx, t)
	}
	// The conversation may speak another language than the Slack locale
	// (a language word, the directory's preferred language).
	return r, replyLocale(r, p.Locale), true
}

// runner is an engine that returns before the turn's timing floor
// (core/engine.Engine.Run): the reply is then delayed, not the worker.
type runner interface {
	Run(ctx context.Context, t engine.Turn) engine.Reply
}

// run is a queued turn acknowledged before it ran (a help-desk handoff):
// engine, then the reply in the DM.
func (b *Bot) run(ctx context.Context, j job) {
	r, loc, ok := b.turn(ctx, j)
	if !ok || r.Duplicate {
		return
	}
	show := func(ctx context.Context) {
		if err := b.show(ctx, j, r, loc); err != nil {
			b.replyFailed(ctx, j, "lost")
		}
	}
	if b.later(ctx, r, show) {
		return
	}
	show(ctx)
}

// show posts a turn's reply: the clicked buttons consumed, the public notice,
// the reply in the DM (and the next masked prompt's modal, with the trigger
// of the action that started the turn). Its error is the DM post's.
func (b *Bot) show(ctx context.Context, j job, r engine.Reply, loc string) error {
	b.openNext(ctx, j, r, loc)
	b.consume(ctx, j.clicked)
	if j.notice != "" {
		if _, err := b.api.PostEphemeralContext(ctx, j.notice, j.user,
			slack.MsgOptionText(b.text(loc, "slack.moved_to_dm"), false)); err != nil {
			b.log.Warn("slack ephemeral notice failed", "err", err)
		}
	}
	return b.deliver(ctx, j, r, loc)
}

// replyLocale is the language to render r in: the conversation's, else loc.
func replyLocale(r engine.Reply, loc string) string {
	if r.Locale != "" {
		return r.Locale
	}
	return loc
}
