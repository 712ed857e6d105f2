package bottest

import (
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"
)

// accepted are the messages that accept a factor and ask for the next (the
// phone says a reset always needs the authenticator).
var accepted = []string{"verify.ok_more", "verify.need_strongest"}

// playReset: the authenticator's code, the text message's code sent at
// once, then the new password in a masked field (or, on a channel without
// masked entry, a temporary password sent to the mobile of record).
func playReset(t *testing.T, c Channel) {
	p := &play{t: t, c: c}
	p.authenticator("amartin")
	s := c.Start(Reset, "amartin")
	mustShow(t, c, s, "totp.prompt")
	s = p.totp()
	mustShow(t, c, s, accepted...)
	p.finish(s, "reset.done", "reset.passphrase_sent")
	p.sweep()
}

// playUnlock: the locked account crossi proves one factor and is unlocked.
func playUnlock(t *testing.T, c Channel) {
	p := &play{t: t, c: c}
	s := c.Start(Unlock, "crossi")
	s = c.Choose(s, "factor.sms")
	p.finish(s, "unlock.done")
	p.sweep()
}

// playEnroll: bnguyen, who has no authenticator, proves two factors, is
// shown the setup key once, and confirms it with the app's code.
func playEnroll(t *testing.T, c Channel) {
	p := &play{t: t, c: c}
	s := c.Start(Enroll, "bnguyen")
	s = c.Choose(s, "factor.sms")
	s = c.Say(p.code())
	mustShow(t, c, s, accepted...)
	s = c.Say(p.code())
	seed := c.(Enroller).Seed()
	if len(seed) < 16 {
		t.Fatalf("setup key %q: want a base32 seed; shown %q", seed, s.Text)
	}
	now := timeOf(c)
	code, err := totp.GenerateCode(seed, now)
	if err != nil {
		t.Fatal(err)
	}
	p.secrets = append(p.secrets, seed, code)
	s = c.Say(code)
	mustShow(t, c, s, "enroll.done")
	p.sweep()
}

// playStale: a choice clicked on an earlier screen, after the conversation
// moved on, acts on nothing: it is refused as stale, or answered with what
// that screen already answered (a keypad's gather is one delivery); the
// conversation goes on.
func playStale(t *testing.T, c Channel) {
	p := &play{t: t, c: c}
	first, asked := p.startSMS()
	s := c.Choose(first, "factor.voice")
	if c.Sent() != 1 {
		t.Fatalf("a stale choice sent a message: %d sent, shown %q", c.Sent(), s.Text)
	}
	if s.Text != "" && s.Text != asked.Text {
		mustShow(t, c, s, "common.stale")
	}
	s = c.Say(p.code())
	mustShow(t, c, s, accepted...)
	p.sweep()
}

// playForged: a delivery the platform did not sign (an altered click token,
// a forged webhook signature) is refused before it acts.
func playForged(t *testing.T, c Channel) {
	p := &play{t: t, c: c}
	p.authenticator("amartin")
	first := c.Start(Reset, "amartin")
	f := c.(Forger).Forge(first, "factor.sms")
	if c.Sent() != 0 {
		t.Fatalf("a forged delivery sent a message; shown %q", f.Text)
	}
	if Shows(c, f, accepted[0]) || Shows(c, f, accepted[1]) || Shows(c, f, "reset.done") {
		t.Fatalf("a forged delivery progressed the conversation: %q", f.Text)
	}
	// The person's own choice still works: the forgery changed nothing.
	s := c.Choose(first, "factor.sms")
	if c.Sent() != 1 {
		t.Fatalf("the real choice after a forgery sent %d messages; shown %q", c.Sent(), s.Text)
	}
	s = c.Say(p.code())
	mustShow(t, c, s, accepted...)
	p.sweep()
}

// playReplay: the platform redelivers the message that started the
// conversation, then the choice that sent a code: nothing acts twice, and
// the person sees nothing new (or the same answer again).
func playReplay(t *testing.T, c Channel) {
	p := &play{t: t, c: c}
	p.authenticator("amartin")
	first := c.Start(Reset, "amartin")
	if r := c.(Replayer).Replay(); r.Text != "" && r.Text != first.Text {
		t.Fatalf("the replayed message showed something new:\n%q\nafter\n%q", r.Text, first.Text)
	}
	if n := Count(c.Captured().Audit, "flow.start"); n != 1 {
		t.Fatalf("the replayed message started %d conversations, want 1", n)
	}
	asked := c.Choose(first, "factor.sms")
	r := c.(Replayer).Replay()
	if c.Sent() != 1 {
		t.Fatalf("the replayed choice sent %d messages, want 1", c.Sent())
	}
	if r.Text != "" && r.Text != asked.Text {
		t.Fatalf("the replayed choice showed something new:\n%q\nafter\n%q", r.Text, asked.Text)
	}
	s := c.Say(p.code())
	mustShow(t, c, s, accepted...)
	p.sweep()
}

// playBusy: while another turn holds the conversation, the person's choice
// acts not and is not lost: once free, the platform's redelivery (or the
// person's retry, on a channel without redeliveries) acts exactly once.
func playBusy(t *testing.T, c Channel) {
	p := &play{t: t, c: c}
	p.authenticator("amartin")
	first := c.Start(Reset, "amartin")
	release := c.(Holder).Hold()
	b := c.Choose(first, "factor.sms")
	if c.Sent() != 0 {
		t.Fatalf("a turn on a held conversation sent a message; shown %q", b.Text)
	}
	if b.Text != "" && !b.Waiting {
		mustShow(t, c, b, "common.busy")
	}
	release()
	var s Screen
	if r, ok := c.(Replayer); ok {
		s = r.Replay()
	} else {
		s = c.Choose(first, "factor.sms")
	}
	if c.Sent() != 1 {
		t.Fatalf("after the conversation was free, %d messages were sent, want 1; shown %q", c.Sent(), s.Text)
	}
	s = c.Say(p.code())
	mustShow(t, c, s, accepted...)
	p.sweep()
}

// playEscalation: the person asks for a person mid-conversation and is
// handed to the help desk (a packet with a reference, or a transfer).
func playEscalation(t *testing.T, c Channel) {
	p := &play{t: t, c: c}
	_, s := p.startSMS()
	p.secrets = append(p.secrets, p.code()) // the code never reaches the help desk
	s = c.AskForPerson()
	mustShow(t, c, s, "escalate.done")
	if !strings.Contains(c.Captured().Audit, `"event":"escalation"`) {
		t.Fatalf("no escalation in the audit trail")
	}
	p.sweep()
}

// playExpiry: a conversation left past its timeout is over; the code typed
// then acts on nothing.
func playExpiry(t *testing.T, c Channel) {
	p := &play{t: t, c: c}
	p.startSMS()
	c.(Clock).Advance(elapse)
	s := c.Say(p.code())
	mustShow(t, c, s, "common.expired")
	if Shows(c, s, accepted[0]) || Shows(c, s, accepted[1]) {
		t.Fatalf("a code was accepted in an expired conversation: %q", s.Text)
	}
	p.sweep()
}

// playBadInput: an overlong entry where a code is expected is refused with
// a catalogued message and acts on nothing; the right code still works.
func playBadInput(t *testing.T, c Channel) {
	p := &play{t: t, c: c}
	p.startSMS()
	s := c.Say(strings.Repeat("9", 600))
	if c.Sent() != 1 {
		t.Fatalf("bad input sent a message; shown %q", s.Text)
	}
	mustShow(t, c, s, "common.too_long", "common.invalid_input", "verify.wrong")
	s = c.Say(p.code())
	mustShow(t, c, s, accepted...)
	p.sweep()
}
