package flows

import (
	"context"
	"fmt"
	"strconv"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/secret"
)

// Managers finds the manager of record of an account, for notices (a
// directory that reads the manager attribute).
type Managers interface {
	// Manager returns u's manager; false when u has none or it is not found.
	Manager(ctx context.Context, u directory.User) (directory.User, bool, error)
}

// courier delivers a method's out-of-band message, rendered from the catalog
// in the conversation's language, and audits it with a masked destination.
type courier struct {
	d *Deps
	c *engine.Ctx
}

// Deliver implements identity.Courier.
func (k courier) Deliver(ctx context.Context, dl identity.Delivery) error {
	args := map[string]string{}
	for a, v := range dl.Args {
		args[a] = v
	}
	kind := notify.KindNotice
	if !dl.Code.Empty() {
		args["code"] = dl.Code.Reveal()
		kind = notify.KindCode
	}
	if !dl.ExpiresAt.IsZero() {
		args["minutes"] = strconv.Itoa(int(dl.ExpiresAt.Sub(k.c.Now).Round(60e9).Minutes()))
	}
	ch := notify.Channel(dl.Channel)
	m := k.d.message(k.c, ch, dl.To, dl.MessageID, args)
	m.Kind = kind
	if err := k.d.send(ctx, ch, m); err != nil {
		k.d.record(ctx, k.c, audit.Event{Name: audit.NameSendFailed, Factor: dl.Channel,
			Destination: audit.MaskDestination(dl.To), Outcome: audit.OutcomeError})
		return fmt.Errorf("send %s: %w", dl.Channel, err)
	}
	k.d.record(ctx, k.c, audit.Event{Name: audit.NameCodeSent, Factor: dl.Channel, Destination: audit.MaskDestination(dl.To)})
	return nil
}

// message renders a notification for channel ch.
func (d *Deps) message(c *engine.Ctx, ch notify.Channel, to, id string, args map[string]string) notify.Message {
	loc := c.Session.Locale
	m := notify.Message{To: to, Summary: id, Locale: loc}
	switch ch {
	case notify.ChannelVoice:
		m.Voice = secret.New(d.Renderer.Text(loc, id, true, args))
		m.Body = m.Voice
	case notify.ChannelEmail:
		m.Subject = d.Renderer.Text(loc, id+".subject", false, nil)
		m.Body = secret.New(d.Renderer.Text(loc, id, false, args))
	default:
		m.Body = secret.New(d.Renderer.Text(loc, id, false, args))
	}
	return m
}

// send delivers m on channel ch.
func (d *Deps) send(ctx context.Context, ch notify.Channel, m notify.Message) error {
	snd := d.Senders[ch]
	if snd == nil {
		return fmt.Errorf("no sender for %s", ch)
	}
	return snd.Send(ctx, m)
}

// notice tells the account owner what happened (a reset, an unlock, an
// enrollment, a replayed code) on every channel of record — the mobile, the
// personal address, the chat DM — and, when the policy says so, the manager:
// never only on the channel just used, which may be in an attacker's hands.
// Notices carry no secret. A failed notice is logged; the change stands.
func (d *Deps) notice(ctx context.Context, c *engine.Ctx, u directory.User, id string) {
	args := map[string]string{"ref": c.Ref, "channel": c.Session.Channel, "time": c.Now.UTC().Format("2006-01-02 15:04 MST")}
	for _, r := range []struct {
		ch notify.Channel
		to string
	}{
		{notify.ChannelSMS, u.Mobile},
		{notify.ChannelEmail, u.RecoveryEmail},
		// The chat DM reaches the person's own chat account, found by the
		// work address (an identifier here, not a factor).
		{notify.ChannelChat, u.Email},
	} {
		if r.to == "" || d.Senders[r.ch] == nil {
			continue
		}
		d.deliverNotice(ctx, c, r.ch, r.to, id, args)
	}
	if !d.Policy.NotifyManager || d.Managers == nil || d.Senders[notify.ChannelEmail] == nil {
		return
	}
	mgr, ok, err := d.Managers.Manager(ctx, u)
	if err != nil {
		d.Log.Warn("manager not found for notice", "ref", c.Ref, "notice", id, "err", err)
		return
	}
	if ok && mgr.Email != "" {
		args["name"] = u.DisplayName
		if args["name"] == "" {
			args["name"] = u.Login
		}
		d.deliverNotice(ctx, c, notify.ChannelEmail, mgr.Email, "manager."+id, args)
	}
}

func (d *Deps) deliverNotice(ctx context.Context, c *engine.Ctx, ch notify.Channel, to, id string, args map[string]string) {
	m := d.message(c, ch, to, id, args)
	m.Kind = notify.KindNotice
	if err := d.send(ctx, ch, m); err != nil {
		d.Log.Warn("notice not sent", "ref", c.Ref, "notice", id, "channel", string(ch), "err", err)
	}
}
