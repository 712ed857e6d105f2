package outreach

import (
	"context"
	"sync/atomic"
)

// MsgExpired is the reply an Answerer gives for a ref it does not know (or
// that is expired, or someone else's).
const MsgExpired = "outreach.expired"

// Answerers is an Answerer over several kinds of notice (lockout, expiry),
// each kept by its own Answerer: the first that knows the ref answers.
// Every one of them gives the same "expired" reply for a ref it does not
// know, so the order reveals nothing.
type Answerers []Answerer

var _ Answerer = Answerers(nil)

// Answer implements Answerer.
func (as Answerers) Answer(ctx context.Context, ref, action string, who Recipient) (Reply, error) {
	last := Reply{MessageID: MsgExpired}
	for _, a := range as {
		r, err := a.Answer(ctx, ref, action, who)
		if err != nil {
			return Reply{}, err
		}
		if r.Flow != "" || r.MessageID != MsgExpired {
			return r, nil
		}
		last = r
	}
	return last, nil
}

// LateAnswerer is an Answerer that is set after it is handed out: a chat
// adapter gives its messenger to the outreach watchers before the Answerer
// that takes its clicks is built. Unset, it answers every click "expired".
// Safe for concurrent use.
type LateAnswerer struct{ p atomic.Pointer[Answerer] }

var _ Answerer = (*LateAnswerer)(nil)

// Set makes a answer from now on; a nil a changes nothing.
func (l *LateAnswerer) Set(a Answerer) {
	if a != nil {
		l.p.Store(&a)
	}
}

// Answer implements Answerer.
func (l *LateAnswerer) Answer(ctx context.Context, ref, action string, who Recipient) (Reply, error) {
	if p := l.p.Load(); p != nil {
		return (*p).Answer(ctx, ref, action, who)
	}
	return Reply{MessageID: MsgExpired}, nil
}
