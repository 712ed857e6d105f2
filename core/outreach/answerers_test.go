package outreach_test

import (
	"context"
	"testing"

	"github.com/resetbot/resetbot/core/outreach"
)

type flowAnswerer string

func (f flowAnswerer) Answer(context.Context, string, string, outreach.Recipient) (outreach.Reply, error) {
	return outreach.Reply{Flow: string(f)}, nil
}

// An adapter's clicks are answered "expired" until its Answerer is set, by
// that Answerer after, and a later nil does not unset it.
func TestLateAnswerer(t *testing.T) {
	var l outreach.LateAnswerer
	who := outreach.Recipient{Channel: "slack", User: "T1:U1"}
	if r, err := l.Answer(t.Context(), "ref", outreach.ActionReset, who); err != nil || r.MessageID != outreach.MsgExpired || r.Flow != "" {
		t.Fatalf("unset: %+v, %v", r, err)
	}
	l.Set(flowAnswerer("reset"))
	l.Set(nil)
	if r, err := l.Answer(t.Context(), "ref", outreach.ActionReset, who); err != nil || r.Flow != "reset" {
		t.Fatalf("set: %+v, %v", r, err)
	}
}
