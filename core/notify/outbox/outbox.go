// Package outbox is an in-memory notify.Sender for the demo and for tests.
//
// It keeps every message it is given and, when built with a writer, prints
// each one as a clearly marked box:
//
//	┌─ OUTBOX · SMS to +1555…0101 ───────────────────────────
//	│ Your resetbot code is 493817. It expires in 10 minutes.
//	└────────────────────────────────────────────────────────
//
// The demo is the one place a one-time code is shown on screen, because the
// terminal plays the part of the user's phone or mailbox. Never wire an outbox
// with a writer into a production configuration: it prints secrets.
package outbox

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/resetbot/resetbot/core/notify"
)

// Width is the width of a printed box in columns.
const Width = 60

// Delivery is one message as the outbox received it.
type Delivery struct {
	// Channel is the channel of the Sender the message was given to.
	Channel notify.Channel
	// Message is the message, body included.
	Message notify.Message
	// Time is when it was received, from the outbox clock.
	Time time.Time
}

// Outbox records messages for every channel and optionally prints them. It is
// safe for concurrent use.
type Outbox struct {
	mu   sync.Mutex
	w    io.Writer
	now  func() time.Time
	sent []Delivery
	errs map[notify.Channel]error
}

// Option configures an Outbox.
type Option func(*Outbox)

// WithClock sets the clock used for Delivery.Time.
func WithClock(now func() time.Time) Option { return func(o *Outbox) { o.now = now } }

// New returns an Outbox printing to w. A nil w only records.
func New(w io.Writer, opts ...Option) *Outbox {
	o := &Outbox{w: w, now: time.Now, errs: map[notify.Channel]error{}}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// Sender returns a notify.Sender that delivers into this outbox on channel
// ch. It delivers in process (notify.Direct).
func (o *Outbox) Sender(ch notify.Channel) notify.Sender { return &sender{box: o, ch: ch} }

// sender delivers into box on one channel.
type sender struct {
	box *Outbox
	ch  notify.Channel
}

var _ notify.Direct = (*sender)(nil)

func (s *sender) Send(ctx context.Context, m notify.Message) error {
	return s.box.deliver(ctx, s.ch, m)
}

// DeliversInProcess implements notify.Direct.
func (s *sender) DeliversInProcess() {}

// BoxOf returns the Outbox that s, a Sender from Outbox.Sender, delivers
// into, for the demo and tests that read what was sent.
func BoxOf(s notify.Sender) (*Outbox, bool) {
	if snd, ok := s.(*sender); ok {
		return snd.box, true
	}
	return nil, false
}

// SetError makes every later send on ch fail with err (nil restores
// success), to test how callers handle a provider outage. Failed sends are
// neither recorded nor printed.
func (o *Outbox) SetError(ch notify.Channel, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errs[ch] = err
}

// Messages returns a copy of every delivery so far, in order.
func (o *Outbox) Messages() []Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Delivery(nil), o.sent...)
}

// Last returns the most recent delivery, if any.
func (o *Outbox) Last() (Delivery, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.sent) == 0 {
		return Delivery{}, false
	}
	return o.sent[len(o.sent)-1], true
}

// Reset forgets every delivery.
func (o *Outbox) Reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = nil
}

func (o *Outbox) deliver(ctx context.Context, ch notify.Channel, m notify.Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if m.To == "" {
		return fmt.Errorf("%w: empty destination", notify.ErrInvalidMessage)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.errs[ch]; err != nil {
		return fmt.Errorf("outbox: %s: %w", ch, err)
	}
	o.sent = append(o.sent, Delivery{Channel: ch, Message: m, Time: o.now()})
	if o.w == nil {
		return nil
	}
	if _, err := io.WriteString(o.w, Render(ch, m)); err != nil {
		return fmt.Errorf("outbox: print: %w", err)
	}
	return nil
}

// Render returns the printed box for m on channel ch, body included.
func Render(ch notify.Channel, m notify.Message) string {
	var b strings.Builder
	title := "┌─ OUTBOX · " + channelLabel(ch) + " to " + displayTo(m.To) + " "
	b.WriteString(title)
	b.WriteString(strings.Repeat("─", max(Width-utf8.RuneCountInString(title), 3)))
	b.WriteString("\n")
	if ch == notify.ChannelEmail && m.Subject != "" {
		writeLines(&b, "Subject: "+m.Subject)
		b.WriteString("│\n")
	}
	text := m.Body.Reveal()
	if ch == notify.ChannelVoice && !m.Voice.Empty() {
		text = "(spoken) " + m.Voice.Reveal()
	}
	writeLines(&b, text)
	b.WriteString("└")
	b.WriteString(strings.Repeat("─", Width-1))
	b.WriteString("\n")
	return b.String()
}

func channelLabel(ch notify.Channel) string {
	switch ch {
	case notify.ChannelSMS:
		return "SMS"
	case notify.ChannelVoice:
		return "VOICE CALL"
	case notify.ChannelEmail:
		return "EMAIL"
	case notify.ChannelChat:
		return "CHAT"
	}
	return strings.ToUpper(clean(string(ch)))
}

// displayTo shortens a phone number to "+1555…0101"; other destinations are
// shown as they are (the demo user owns them).
func displayTo(to string) string {
	to = clean(to)
	if strings.Contains(to, "@") || utf8.RuneCountInString(to) < 10 {
		return to
	}
	r := []rune(to)
	return string(r[:5]) + "…" + string(r[len(r)-4:])
}

// writeLines writes text as box lines, one per input line.
func writeLines(b *strings.Builder, text string) {
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		b.WriteString("│ ")
		b.WriteString(clean(line))
		b.WriteString("\n")
	}
}

// clean drops control characters so message text cannot move the cursor or
// recolour the demo terminal; tabs become spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			return -1
		}
		return r
	}, s)
}
