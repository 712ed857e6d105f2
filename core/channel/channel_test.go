package channel_test

import (
	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/escalate"
	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/token"
)

// The production types satisfy the narrow dependencies; escalate.Poster and
// channel.Poster are interchangeable.
var (
	_ channel.Engine   = (*engine.Engine)(nil)
	_ channel.Messages = (*messages.Catalog)(nil)
	_ channel.Tokens   = (*token.Signer)(nil)
	_ channel.Handoffs = (*handoff.Store)(nil)
	_ channel.Poster   = escalate.PosterFunc(nil)
	_ escalate.Poster  = channel.Poster(nil)
)
