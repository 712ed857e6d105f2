package outbox_test

import (
	"context"
	"os"

	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/outbox"
	"github.com/resetbot/resetbot/core/secret"
)

func Example() {
	o := outbox.New(os.Stdout)
	_ = o.Sender(notify.ChannelSMS).Send(context.Background(), notify.Message{
		Kind: notify.KindCode, To: "+15550100101",
		Body: secret.New("Your resetbot code is 493817. It expires in 10 minutes."),
	})
	// Output:
	// ┌─ OUTBOX · SMS to +1555…0101 ──────────────────────────────
	// │ Your resetbot code is 493817. It expires in 10 minutes.
	// └───────────────────────────────────────────────────────────
}
