package outreach

import "context"

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
