package mattermost

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/handoff"
)

var _ channel.HandoffStarter = (*Bot)(nil)

// errUnreachable means the person a handoff names has no usable Mattermost
// account; the handoff fails with a reason code (the text stays in the log).
var errUnreachable = errors.New("mattermost: the person cannot be reached in Mattermost")

// StartHandoff reaches the person a help-desk handoff names: their
// Mattermost account by e-mail (a login is turned into the account's e-mail
// of record), the DM with the bot, and the handoff's flow started there
// after a short introduction. It returns once the turn is queued. The
// account is a way to reach the person, never proof of who they are: the
// flow verifies them as always.
func (b *Bot) StartHandoff(ctx context.Context, h handoff.Handoff) error {
	email, err := b.handoffEmail(ctx, h.User)
	if err != nil {
		return err
	}
	var u user
	if err := b.api.do(ctx, "users.email", "GET", "/api/v4/users/email/"+url.PathEscape(email), nil, &u); err != nil {
		return fmt.Errorf("%w: %w", errUnreachable, err)
	}
	p, err := b.profile(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("%w: %w", errUnreachable, err)
	}
	bot := b.self()
	if p.Bot || p.Deleted || !b.allowed(p) || bot == "" || !validID(u.ID) {
		return errUnreachable
	}
	dm, err := b.api.direct(ctx, bot, u.ID)
	if err != nil {
		return fmt.Errorf("%w: %w", errUnreachable, err)
	}
	// Action names equal flow names: reset, unlock and verify.
	j := job{user: u.ID, channel: dm, delivery: "h:" + h.ID, intro: true,
		input: engine.Input{Kind: engine.InputStart, Flow: string(h.Action), Handoff: h.ID}}
	if err := b.enqueue(j); err != nil {
		return fmt.Errorf("mattermost: queue handoff turn: %w", err)
	}
	return nil
}

// handoffEmail is the e-mail a handoff's user is found by in Mattermost.
func (b *Bot) handoffEmail(ctx context.Context, who string) (string, error) {
	if strings.Contains(who, "@") {
		return who, nil
	}
	if b.o.Accounts == nil {
		return "", errUnreachable
	}
	users, err := b.o.Accounts.Find(ctx, directory.ByLogin, who)
	if err != nil {
		return "", fmt.Errorf("mattermost: find the handoff's account: %w", err)
	}
	if len(users) != 1 || users[0].Email == "" {
		return "", errUnreachable
	}
	return users[0].Email, nil
}
