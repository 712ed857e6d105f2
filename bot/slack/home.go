package slack

import (
	"context"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/engine"
)

// Entry points that start a flow with no typing: the App Home tab's
// buttons and the shortcuts. Each carries a trigger_id, so when the first
// prompt is masked input (a mapped account's authenticator code) its modal
// opens at once (openNext).
const (
	// actionHome prefixes the App Home buttons; the button's value is the
	// flow it starts. Starting a flow is what typing "reset" does, so the
	// value needs no signature: it is checked against homeFlows.
	actionHome = "rb_home_"
	// Shortcut callback IDs (message and global shortcuts, see the manifest).
	callbackReset  = "rb_reset"
	callbackUnlock = "rb_unlock"
)

// homeFlows are the flows the App Home offers, with their button labels.
var homeFlows = []struct{ flow, label string }{
	{"reset", "flow.reset"}, {"unlock", "flow.unlock"}, {flowEnroll, "flow.enroll"},
}

func homeFlow(f string) bool {
	for _, h := range homeFlows {
		if h.flow == f {
			return true
		}
	}
	return false
}

// onHomeOpened publishes the App Home tab when a person opens it. It is
// queued after the ack: views.publish does not need the event's deadline.
func (b *Bot) onHomeOpened(ctx context.Context, user, eventID string) error {
	if !b.claim(ctx, "home:"+eventID) {
		return nil
	}
	return b.submit(ctx, "home:"+eventID, func(ctx context.Context) { b.publishHome(ctx, user) })
}

// publishHome shows the greeting and one button per flow, in the person's
// language; a person who may not use the bot sees only the refusal.
func (b *Bot) publishHome(ctx context.Context, user string) {
	ctx, cancel := context.WithTimeout(ctx, homeTimeout)
	defer cancel()
	p, err := b.profile(ctx, user)
	if err != nil || p.Bot || p.Deleted {
		if err != nil {
			b.log.Warn("slack home not published: profile unavailable", "err", err)
		}
		return
	}
	blocks := []slack.Block{section(b.text(p.Locale, engine.MsgMenu))}
	if (p.Team != "" && !b.allowedTeam(p.Team)) || (p.Guest && !b.o.Config.AllowGuests) {
		blocks = []slack.Block{section(b.text(p.Locale, "chat.not_allowed"))}
	} else {
		els := make([]slack.BlockElement, 0, len(homeFlows))
		for _, h := range homeFlows {
			btn := b.button(p.Locale, actionHome+h.flow, h.label, h.flow)
			if h.flow == "reset" {
				btn.Style = slack.StylePrimary
			}
			els = append(els, btn)
		}
		blocks = append(blocks, slack.NewActionBlock("home", els...))
	}
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
	if _, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view}); err != nil {
		b.log.Warn("slack views.publish failed", "err", err)
	}
}

// startFrom starts flow for the person behind an App Home button or a
// shortcut; the conversation goes on in the DM. A shortcut used on a
// message in a channel gets the "continue in DM" note there. Slack is
// acknowledged once the turn is committed and its reply posted
// (runBeforeAck).
func (b *Bot) startFrom(ctx context.Context, ic slack.InteractionCallback, flow, prefix string) error {
	j := job{team: ic.Team.ID, user: ic.User.ID, delivery: deliveryOf(prefix, ic),
		input:   engine.Input{Kind: engine.InputStart, Flow: flow},
		trigger: ic.TriggerID, triggerAt: b.now()}
	if ch := ic.Channel.ID; ch != "" && !strings.HasPrefix(ch, "D") {
		j.notice = ch
	}
	return b.runBeforeAck(ctx, j)
}

// onShortcut handles the message and global shortcuts.
func (b *Bot) onShortcut(ctx context.Context, ic slack.InteractionCallback) error {
	switch ic.CallbackID {
	case callbackReset:
		return b.startFrom(ctx, ic, "reset", "s:")
	case callbackUnlock:
		return b.startFrom(ctx, ic, "unlock", "s:")
	}
	return nil
}

// homeTimeout bounds publishing the App Home.
const homeTimeout = 10 * time.Second
