package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/escalate"
)

// HandoffStore starts help-desk handoffs (core/handoff.Store).
type HandoffStore interface {
	Start(ctx context.Context, h handoff.Handoff, st handoff.Starter) (handoff.Handoff, error)
}

// requesterPrefix starts the Requester of handoffs made with the agent
// command: "agent:slack:<team>:<user>".
const requesterPrefix = "agent:" + Channel + ":"

// Starter opens a DM with the user a handoff names and starts its flow there.
func (b *Bot) Starter() handoff.Starter { return handoff.StarterFunc(b.startHandoff) }

// Poster posts escalation packets (already rendered plain text, no secret)
// into a help-desk channel with chat.postMessage. The bot must be a member
// of a private channel; a public one needs chat:write.public or an invite.
func (b *Bot) Poster(channel string) escalate.Poster {
	return escalate.PosterFunc(func(ctx context.Context, text string) error {
		_, _, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionBlocks(section(text)),
			slack.MsgOptionText(clip(text, 3000), false))
		if err != nil {
			return fmt.Errorf("slack: post escalation: %w", err)
		}
		return nil
	})
}

// errNotEmail means a handoff names a login: Slack finds people by e-mail.
var errNotEmail = errors.New("slack: a Slack handoff needs the user's e-mail address, not a login")

// startHandoff resolves h.User (an e-mail address) to a Slack user with
// users.lookupByEmail, opens the DM and queues the first turn: a short
// introduction, then the flow's first step. It returns once the turn is
// queued; an error means the person cannot be reached in Slack.
func (b *Bot) startHandoff(ctx context.Context, h handoff.Handoff) error {
	if !strings.Contains(h.User, "@") {
		return errNotEmail
	}
	u, err := b.api.GetUserByEmailContext(ctx, h.User)
	if err != nil {
		return fmt.Errorf("slack: users.lookupByEmail: %w", err)
	}
	// users.info adds the locale, which users.lookupByEmail does not give.
	p, err := b.profile(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	if p.Bot || p.Deleted || (p.Team != "" && !b.allowedTeam(p.Team)) || (p.Guest && !b.o.Config.AllowGuests) {
		return errors.New("slack: the user's Slack account cannot use the bot (bot, deactivated, guest or external)")
	}
	team, err := b.handoffTeam(ctx, h)
	if err != nil {
		return err
	}
	ch, err := b.dm(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	// Action names equal flow names: reset, unlock, and verify.
	flow := string(h.Action)
	j := job{team: team, user: u.ID, channel: ch, delivery: "h:" + h.ID,
		input: engine.Input{Kind: engine.InputStart, Flow: flow, Handoff: h.ID}}
	if err := b.pool.Submit(func(ctx context.Context) {
		msg := b.text(p.Locale, "chat.handoff.intro")
		b.post(ctx, j, []slack.Block{section(msg)}, msg)
		b.run(ctx, j)
	}); err != nil {
		return fmt.Errorf("slack: queue handoff turn: %w", err)
	}
	return nil
}

// handoffTeam is the workspace the user's turns will arrive from, so that the
// handoff's session is the one their clicks and messages continue: the
// agent's workspace for agent handoffs, else the bot's own (auth.test).
func (b *Bot) handoffTeam(ctx context.Context, h handoff.Handoff) (string, error) {
	if team, _, ok := parseRequester(h.Requester); ok {
		return team, nil
	}
	return b.team.get(ctx, b.api)
}

// parseRequester splits "agent:slack:<team>:<user>".
func parseRequester(r string) (team, user string, ok bool) {
	rest, ok := strings.CutPrefix(r, requesterPrefix)
	if !ok {
		return "", "", false
	}
	team, user, ok = strings.Cut(rest, ":")
	if !ok || user == "" {
		return "", rest, rest != ""
	}
	return team, user, true
}

// teamCache remembers the bot's workspace ID from auth.test.
type teamCache struct {
	mu sync.Mutex
	id string
}

func (t *teamCache) get(ctx context.Context, api *slack.Client) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.id != "" {
		return t.id, nil
	}
	r, err := api.AuthTestContext(ctx)
	if err != nil {
		return "", fmt.Errorf("slack: auth.test: %w", err)
	}
	t.id = r.TeamID
	return t.id, nil
}

// auditRefusal records a refused agent command (who, why; never the text).
func (b *Bot) auditRefusal(ctx context.Context, actor, reason string) {
	b.log.Info("authn.rejected", "reason", reason, "actor", actor, "command", "handoff")
	if b.o.Audit == nil {
		return
	}
	err := b.o.Audit.Write(ctx, audit.Event{Name: audit.NameAuthnRejected, Channel: Channel, Actor: actor,
		Flow: "handoff", Outcome: audit.OutcomeDenied, Reason: reason})
	if err != nil {
		b.log.Warn("audit write failed", "err", err)
	}
}
