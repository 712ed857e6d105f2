package lockout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/store"
)

// Answers handles clicks on lockout notices; it implements
// outreach.Answerer. Any replica answers: the notice is in the store.
type Answers struct {
	Store store.Store
	Keys  outreach.Keys
	// Audit receives outreach.answer and, for Not me, assist.not_me (which
	// the alarm detector turns into a security alert).
	Audit audit.Sink
	Clock func() time.Time
}

var _ outreach.Answerer = (*Answers)(nil)

// expired is the reply to an unknown, expired or someone else's notice:
// the same in every case.
var expired = outreach.Reply{MessageID: outreach.MsgExpired}

// Answer implements outreach.Answerer. Unlock and reset start the normal
// flow, which identifies and verifies the user from scratch: the notice
// is not a factor and does not even pick the account. Not me raises the
// security alert (once per notice) and offers a reset.
func (a *Answers) Answer(ctx context.Context, ref, action string, who outreach.Recipient) (outreach.Reply, error) {
	var n noticeRecord
	ok, err := outreach.ReadNotice(ctx, a.Store, noticeKey(ref), who, &n)
	if err != nil {
		return outreach.Reply{}, fmt.Errorf("lockout: read notice: %w", err)
	}
	if !ok {
		return expired, nil
	}
	actor := n.Actor()
	ev := audit.Event{Name: "outreach.answer", Ref: ref, Channel: who.Channel, Actor: actor,
		Outcome: audit.OutcomeSuccess, Reason: action, Fields: map[string]string{"kind": Kind}}
	switch action {
	case outreach.ActionUnlock, outreach.ActionReset:
		a.write(ctx, ev)
		return outreach.Reply{Flow: action}, nil
	case outreach.ActionNotMe:
		return a.notMe(ctx, ref, actor, n, ev)
	}
	return expired, nil
}

// notMe records the answer as assist.not_me (the alarm rule not_me raises
// one alert with this context) the first time it is clicked.
func (a *Answers) notMe(ctx context.Context, ref, actor string, n noticeRecord, ev audit.Event) (outreach.Reply, error) {
	reply := outreach.Reply{MessageID: "outreach.not_me_done", Ref: ref,
		Actions: []outreach.Action{{ID: outreach.ActionReset, MessageID: "outreach.reset"}}}
	_, err := a.Store.CompareAndSwap(ctx, noticeKey(ref)+":not_me", 0, []byte{1}, DefaultNoticeTTL)
	if errors.Is(err, store.ErrConflict) {
		return reply, nil
	}
	if err != nil {
		return outreach.Reply{}, fmt.Errorf("lockout: record not me: %w", err)
	}
	a.write(ctx, ev)
	now := time.Now()
	if a.Clock != nil {
		now = a.Clock()
	}
	a.write(ctx, audit.Event{Time: now, Name: alarm.NameNotMe, Ref: ref, Channel: ev.Channel, Actor: actor,
		Outcome: audit.OutcomeDenied, Reason: "lockout_not_me",
		Fields: map[string]string{"source": "outreach", "locked_at": n.LockedAt.UTC().Format(time.RFC3339),
			"directory": n.Directory}})
	return reply, nil
}

func (a *Answers) write(ctx context.Context, e audit.Event) {
	if a.Audit != nil {
		_ = a.Audit.Write(ctx, e)
	}
}
