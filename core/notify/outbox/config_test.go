package outbox_test

import (
	"bytes"
	"testing"

	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/outbox"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
)

// TestConfigSwitch: notify.outbox is a switch. On, it captures SMS, calls
// and e-mail in one Outbox, in process (no queue needed); it is refused in
// production by validation and by Open. Off, it delivers nothing.
func TestConfigSwitch(t *testing.T) {
	on, off := outbox.Config(true), outbox.Config(false)
	if probs := plugin.Check(&on, "notify.outbox", true); len(probs) != 1 || probs[0].Path != "notify.outbox" {
		t.Fatalf("production: %v", probs)
	}
	if probs := plugin.Check(&off, "notify.outbox", true); len(probs) != 0 {
		t.Fatalf("off in production: %v", probs)
	}
	if _, err := on.Open(t.Context(), notify.Deps{Production: true}); err == nil {
		t.Fatal("Open in production succeeded")
	}
	if s, err := off.Open(t.Context(), notify.Deps{}); err != nil || len(s) != 0 || off.Delivers(notify.ChannelSMS) {
		t.Fatalf("off: %v, %v", s, err)
	}
	var console bytes.Buffer
	senders, err := on.Open(t.Context(), notify.Deps{Console: &console})
	if err != nil {
		t.Fatal(err)
	}
	var box *outbox.Outbox
	for _, ch := range []notify.Channel{notify.ChannelSMS, notify.ChannelVoice, notify.ChannelEmail} {
		s := senders[ch]
		b, ok := outbox.BoxOf(s)
		if _, direct := s.(notify.Direct); !ok || !direct || (box != nil && b != box) || !on.Delivers(ch) {
			t.Fatalf("%s: sender %T", ch, s)
		}
		box = b
	}
	if on.Delivers(notify.ChannelChat) || len(senders) != 3 {
		t.Fatalf("senders %v", senders)
	}
	if err := senders[notify.ChannelSMS].Send(t.Context(), notify.Message{To: "+15550100", Body: secret.New("hi")}); err != nil {
		t.Fatal(err)
	}
	if len(box.Messages()) != 1 || console.Len() == 0 {
		t.Fatalf("outbox %v, console %q", box.Messages(), console.String())
	}
}
