package app

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/resetbot/resetbot/core/notify"
)

// TestWatchQueue: a full notifier queue shows its depth and counts the send
// it shed.
func TestWatchQueue(t *testing.T) {
	block := make(chan struct{})
	slow := notify.SenderFunc(func(ctx context.Context, _ notify.Message) error { <-block; return nil })
	q := notify.NewQueue(slow, 1, 1)
	defer func() { close(block); q.Close() }()
	reg := prometheus.NewRegistry()
	if err := watchQueue(reg, "sms", q); err != nil {
		t.Fatal(err)
	}
	var shed int
	for range 4 {
		if err := q.Send(context.Background(), notify.Message{To: "+15555550101"}); err != nil {
			shed++
		}
	}
	want := `
# HELP resetbot_notify_queue_shed_total Sends refused because a notifier's queue was full.
# TYPE resetbot_notify_queue_shed_total counter
resetbot_notify_queue_shed_total{channel="sms"} ` + string(rune('0'+shed)) + "\n"
	if shed == 0 {
		t.Fatal("nothing was shed: the test proves nothing")
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "resetbot_notify_queue_shed_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "resetbot_notify_queue_depth"); n != 1 {
		t.Errorf("depth series: %d", n)
	}
}
