package outbox_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/outbox"
	"github.com/resetbot/resetbot/core/secret"
)

func clock() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) }

func TestRenderBoxes(t *testing.T) {
	cases := []struct {
		name string
		ch   notify.Channel
		m    notify.Message
		want []string
	}{
		{"sms", notify.ChannelSMS,
			notify.Message{Kind: notify.KindCode, To: "+15550100101", Body: secret.New("Your resetbot code is 493817.")},
			[]string{"┌─ OUTBOX · SMS to +1555…0101 ─", "│ Your resetbot code is 493817.\n", "└───"}},
		{"voice uses spoken text", notify.ChannelVoice,
			notify.Message{To: "+15550100101", Body: secret.New("code 493817"), Voice: secret.New("4, 9, 3, 8, 1, 7")},
			[]string{"VOICE CALL to +1555…0101", "│ (spoken) 4, 9, 3, 8, 1, 7"}},
		{"email with subject", notify.ChannelEmail,
			notify.Message{To: "alice@corp.example", Subject: "Your code", Body: secret.New("line one\nline two")},
			[]string{"EMAIL to alice@corp.example", "│ Subject: Your code\n│\n", "│ line one\n│ line two\n"}},
		{"control chars stripped", notify.ChannelChat,
			notify.Message{To: "U123", Body: secret.New("hi\x1b[2J there\x07")},
			[]string{"CHAT to U123", "│ hi[2J there\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := outbox.Render(tc.ch, tc.m)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("box lacks %q:\n%s", w, out)
				}
			}
			if strings.ContainsAny(out, "\x1b\x07") {
				t.Errorf("control characters printed: %q", out)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if !strings.HasPrefix(lines[0], "┌─ OUTBOX") || !strings.HasPrefix(lines[len(lines)-1], "└") {
				t.Errorf("not a box:\n%s", out)
			}
		})
	}
}

func TestOutboxRecordsAndPrints(t *testing.T) {
	var buf bytes.Buffer
	o := outbox.New(&buf, outbox.WithClock(clock))
	ctx := context.Background()
	sms, mail := o.Sender(notify.ChannelSMS), o.Sender(notify.ChannelEmail)
	if _, ok := o.Last(); ok {
		t.Error("Last on empty outbox")
	}
	if err := sms.Send(ctx, notify.Message{To: "+15550100101", Body: secret.New("c1"), Summary: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := mail.Send(ctx, notify.Message{To: "alice@corp.example", Body: secret.New("c2"), Summary: "b"}); err != nil {
		t.Fatal(err)
	}
	got := o.Messages()
	if len(got) != 2 || got[0].Channel != notify.ChannelSMS || got[1].Channel != notify.ChannelEmail ||
		got[1].Message.Body.Reveal() != "c2" || !got[0].Time.Equal(clock()) {
		t.Fatalf("Messages = %+v", got)
	}
	if last, _ := o.Last(); last.Message.Summary != "b" {
		t.Errorf("Last = %+v", last)
	}
	if strings.Count(buf.String(), "┌─ OUTBOX") != 2 {
		t.Errorf("printed:\n%s", buf.String())
	}
	o.Reset()
	if len(o.Messages()) != 0 {
		t.Error("Reset did not clear")
	}
}

func TestOutboxFailures(t *testing.T) {
	o := outbox.New(nil)
	ctx := context.Background()
	outage := errors.New("provider 500")
	o.SetError(notify.ChannelSMS, outage)
	if err := o.Sender(notify.ChannelSMS).Send(ctx, notify.Message{To: "+15550100101"}); !errors.Is(err, outage) {
		t.Errorf("err = %v, want outage", err)
	}
	if err := o.Sender(notify.ChannelVoice).Send(ctx, notify.Message{To: "+15550100101"}); err != nil {
		t.Errorf("other channel affected: %v", err)
	}
	o.SetError(notify.ChannelSMS, nil)
	if err := o.Sender(notify.ChannelSMS).Send(ctx, notify.Message{To: "+15550100101"}); err != nil {
		t.Errorf("after clearing: %v", err)
	}
	if err := o.Sender(notify.ChannelSMS).Send(ctx, notify.Message{}); !errors.Is(err, notify.ErrInvalidMessage) {
		t.Errorf("empty To: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := o.Sender(notify.ChannelSMS).Send(cctx, notify.Message{To: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if n := len(o.Messages()); n != 2 {
		t.Errorf("recorded %d, want 2 (failures are not recorded)", n)
	}
}

func TestOutboxConcurrent(t *testing.T) {
	o := outbox.New(&bytes.Buffer{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 25; j++ {
				_ = o.Sender(notify.ChannelSMS).Send(context.Background(), notify.Message{To: "+15550100101"})
			}
		}()
	}
	wg.Wait()
	if n := len(o.Messages()); n != 100 {
		t.Errorf("recorded %d", n)
	}
}
