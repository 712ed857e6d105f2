package mattermost

import (
	"context"

	"github.com/resetbot/resetbot/core/channel"
)

// poster posts plain text into one Mattermost channel: escalation packets
// to the help desk, alarms, the monthly summary. Texts carry no secret; they
// are escaped like every post, so nothing in them becomes a mention or a link.
type poster struct {
	b       *Bot
	channel string
}

// Post posts text into the channel.
func (p poster) Post(ctx context.Context, text string) error {
	_, err := p.b.api.createPost(ctx, post{ChannelID: p.channel, Message: escape(text),
		Props: map[string]any{"disable_group_highlight": true}})
	return err
}

// PostTo returns a poster into the Mattermost channel with ID target.
func (b *Bot) PostTo(target string) channel.Poster { return poster{b: b, channel: target} }

// HelpDesk returns the poster into the configured help-desk channel; ok is
// false when none is configured (Mattermost is then no escalation
// destination).
func (b *Bot) HelpDesk() (channel.Poster, bool) {
	if b.o.Config.HelpDeskChannel == "" {
		return nil, false
	}
	return b.PostTo(b.o.Config.HelpDeskChannel), true
}
