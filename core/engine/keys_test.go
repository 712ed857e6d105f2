package engine

import (
	"testing"

	"github.com/resetbot/resetbot/core/store"
)

// TestTurnKeysAsBefore: the keys cut from one string are the keys the
// store has always been given (a rolling upgrade shares them).
func TestTurnKeysAsBefore(t *testing.T) {
	for _, tn := range []Turn{
		{Channel: "slack", ChannelUser: "T1:U1", DeliveryID: "Ev0123"},
		{Channel: "console", ChannelUser: "U1"},
		{Channel: "voice", ChannelUser: "CA€:x", DeliveryID: "d:1"},
	} {
		tag := "{" + tn.Channel + ":" + tn.ChannelUser + "}"
		want := store.TurnKeys{Session: "sess:" + tag, Lock: "lock:" + tag, Owner: "ref"}
		if tn.DeliveryID != "" {
			want.Delivery = "dlv:" + tag + ":" + tn.DeliveryID
		}
		if got := turnKeys(&tn, "ref"); got != want {
			t.Errorf("turnKeys(%+v) = %+v, want %+v", tn, got, want)
		}
		if got := SessionKey(tn.Channel, tn.ChannelUser); got != want.Session {
			t.Errorf("SessionKey = %q, want %q", got, want.Session)
		}
	}
}
