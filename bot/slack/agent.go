package slack

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/handoff"
)

// agentCheckTimeout bounds the membership check on the ack path (Slack
// waits 3 s for the ack).
const agentCheckTimeout = 2 * time.Second

// maxMemberPages bounds conversations.members paging (1000 per page).
const maxMemberPages = 20

var (
	// mentionArg is an escaped user mention: <@U123> or <@U123|name>.
	mentionArg = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(\|[^>]*)?>$`)
	// mailtoArg is an escaped e-mail address: <mailto:a@b|a@b>.
	mailtoArg = regexp.MustCompile(`^<mailto:([^|>]+)(\|[^>]*)?>$`)
	plainMail = regexp.MustCompile(`^[^\s@<>|]+@[^\s@<>|]+\.[^\s@<>|]+$`)
)

// agentTarget is whom the agent names: a Slack user or an e-mail address.
type agentTarget struct{ user, email string }

// parseAgentCommand reads "@user reset|unlock|verify" (the command is
// registered with escaping, so a mention arrives as <@U123|name>).
func parseAgentCommand(text string) (agentTarget, handoff.Action, bool) {
	f := strings.Fields(text)
	if len(f) != 2 {
		return agentTarget{}, "", false
	}
	act := handoff.Action(strings.ToLower(f[1]))
	if !act.Valid() {
		return agentTarget{}, "", false
	}
	switch {
	case mentionArg.MatchString(f[0]):
		return agentTarget{user: mentionArg.FindStringSubmatch(f[0])[1]}, act, true
	case mailtoArg.MatchString(f[0]):
		return agentTarget{email: mailtoArg.FindStringSubmatch(f[0])[1]}, act, true
	case plainMail.MatchString(f[0]):
		return agentTarget{email: f[0]}, act, true
	}
	return agentTarget{}, "", false
}

// onAgentCommand handles "/handoff @user reset|unlock|verify". Only members
// of the configured agent channel or user group may run it; anyone else gets
// a catalogued ephemeral refusal and an audit event. The handoff itself is
// started after the ack, on the pool.
func (b *Bot) onAgentCommand(ctx context.Context, c slack.SlashCommand) (any, error) {
	loc := b.locale(c.UserID)
	agent := userKey(c.TeamID, c.UserID)
	if b.o.Handoffs == nil {
		return ephemeral(b.text(loc, "common.unknown_command")), nil
	}
	cctx, cancel := context.WithTimeout(ctx, agentCheckTimeout)
	ok, err := b.agents.member(cctx, b, c.UserID)
	cancel()
	if err != nil {
		b.log.Warn("slack agent membership check failed", "err", err)
		return ephemeral(b.text(loc, "slack.agent.check_failed")), nil
	}
	if ok {
		// Guests and people of other organisations are never agents, even
		// as members of the agent channel.
		pctx, pcancel := context.WithTimeout(ctx, agentCheckTimeout)
		p, err := b.profile(pctx, c.UserID)
		pcancel()
		ok = err == nil && !p.Guest && !p.Bot && !p.Deleted
	}
	if !ok {
		b.auditRefusal(ctx, agent, "not_agent")
		return ephemeral(b.text(loc, "slack.agent.refused")), nil
	}
	if t, ok := parseLiftCommand(c.Text); ok {
		return b.agentLiftCommand(ctx, c, loc, t)
	}
	if id, phrase, ok := handoff.ParseReadbackCommand(c.Text); ok {
		return b.agentReadback(ctx, c, loc, id, phrase)
	}
	target, action, ok := parseAgentCommand(c.Text)
	if !ok {
		return ephemeral(b.o.Messages.Text(loc, "slack.agent.usage", false,
			map[string]string{"command": b.o.Config.Handoff()})), nil
	}
	if c.TriggerID == "" {
		return nil, nil
	}
	delivery := "c:" + c.TriggerID
	if !b.claim(ctx, delivery) {
		return nil, nil
	}
	if err := b.submit(ctx, delivery, func(ctx context.Context) {
		b.agentHandoff(ctx, c.TeamID, c.UserID, target, action)
	}); err != nil {
		return nil, err
	}
	return ephemeral(b.o.Messages.Text(loc, "slack.agent.accepted", false,
		map[string]string{"action": string(action)})), nil
}

// agentHandoff resolves the person and starts the handoff; the agent then
// follows it through the live status (see status.go). Problems before the
// handoff exists are told to the agent in a DM.
func (b *Bot) agentHandoff(ctx context.Context, team, agent string, t agentTarget, action handoff.Action) {
	email := t.email
	if t.user != "" {
		p, err := b.profile(ctx, t.user)
		switch {
		case err != nil:
			b.log.Warn("slack handoff target lookup failed", "err", err)
			b.tellAgent(ctx, agent, "slack.agent.not_started")
			return
		case p.Email == "" || p.Bot || p.Deleted:
			b.tellAgent(ctx, agent, "slack.agent.no_user")
			return
		}
		email = p.Email
	}
	_, err := b.o.Handoffs.Start(ctx, handoff.Handoff{Action: action, User: email, Channel: Channel,
		Requester: requesterPrefix + userKey(team, agent)}, b.Starter())
	if err != nil {
		b.log.Warn("slack agent handoff not created", "err", err)
		key := "slack.agent.not_started"
		if errors.Is(err, handoff.ErrInvalid) {
			key = "slack.agent.no_user"
		}
		b.tellAgent(ctx, agent, key)
	}
}

// tellAgent posts a catalogued message in the agent's DM.
func (b *Bot) tellAgent(ctx context.Context, agent, id string) {
	msg := b.text(b.agentLocale(ctx, agent), id)
	b.post(ctx, job{user: agent}, []slack.Block{section(msg)}, msg)
}

// agentSet decides who is an agent. It keeps no list: membership is read
// from Slack on every command, so removing someone from the agent channel
// or group takes effect on their next command.
type agentSet struct{}

// member reports whether user may run the agent command: one of the
// explicit agent_ids, or a member of the private agent channel or the agent
// user group. With none configured, nobody may.
func (agentSet) member(ctx context.Context, b *Bot, user string) (bool, error) {
	cfg := b.o.Config
	if slices.Contains(cfg.AgentIDs, user) {
		return true, nil
	}
	if cfg.AgentChannel == "" && cfg.AgentUserGroup == "" {
		return false, nil
	}
	m, err := b.fetchAgents(ctx)
	if err != nil {
		return false, err
	}
	return m[user], nil
}

// fetchAgents lists the agent channel's members (conversations.members) and
// the agent user group's (usergroups.users.list).
func (b *Bot) fetchAgents(ctx context.Context) (map[string]bool, error) {
	cfg := b.o.Config
	m := map[string]bool{}
	if cfg.AgentChannel != "" {
		// Anyone can join a public channel: its members are no proof of
		// being an agent.
		ch, err := b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: cfg.AgentChannel})
		if err != nil {
			return nil, fmt.Errorf("conversations.info: %w", err)
		}
		if !ch.IsPrivate {
			b.log.Error("the slack agent channel is public; agent commands are refused until it is private",
				"channel", cfg.AgentChannel)
			return nil, errPublicAgentChannel
		}
		cursor := ""
		for range maxMemberPages {
			ids, next, err := b.api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{
				ChannelID: cfg.AgentChannel, Cursor: cursor, Limit: 1000})
			if err != nil {
				return nil, fmt.Errorf("conversations.members: %w", err)
			}
			for _, id := range ids {
				m[id] = true
			}
			if cursor = next; cursor == "" {
				break
			}
		}
	}
	if cfg.AgentUserGroup != "" {
		ids, err := b.api.GetUserGroupMembersContext(ctx, cfg.AgentUserGroup)
		if err != nil {
			return nil, fmt.Errorf("usergroups.users.list: %w", err)
		}
		for _, id := range ids {
			m[id] = true
		}
	}
	return m, nil
}

// errPublicAgentChannel refuses agent commands while the agent channel is public.
var errPublicAgentChannel = errors.New("slack: the agent channel is public")
