package expiry

import (
	"context"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/store"
)

// Answers handles clicks on reminders' Change it now button; it implements
// outreach.Answerer. Any replica answers: the reminder is in the store.
type Answers struct {
	Store store.Store
	// Audit receives outreach.answer.
	Audit audit.Sink
	Clock func() time.Time
}

var _ outreach.Answerer = (*Answers)(nil)

// expired is the reply to an unknown, expired or someone else's reminder:
// the same in every case.
var expired = outreach.Reply{MessageID: outreach.MsgExpired}

// Answer implements outreach.Answerer: Change it now starts the change
// flow, which identifies and verifies the person from scratch — the
// reminder is not a factor and does not pick the account.
func (a *Answers) Answer(ctx context.Context, ref, action string, who outreach.Recipient) (outreach.Reply, error) {
	var n noticeRecord
	ok, err := outreach.ReadNotice(ctx, a.Store, noticeKey(ref), who, &n)
	if err != nil {
		return outreach.Reply{}, fmt.Errorf("expiry: read reminder: %w", err)
	}
	if !ok || action != outreach.ActionChange {
		return expired, nil
	}
	if a.Audit != nil {
		now := time.Now()
		if a.Clock != nil {
			now = a.Clock()
		}
		_ = a.Audit.Write(ctx, audit.Event{Time: now, Name: "outreach.answer", Ref: ref, Channel: who.Channel,
			Actor: n.Actor(), Outcome: audit.OutcomeSuccess, Reason: action,
			Fields: map[string]string{"kind": Kind}})
	}
	return outreach.Reply{Flow: "change"}, nil
}
