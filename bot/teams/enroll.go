package teams

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/secret"
)

// Authenticator enrollment delivery. The flow emits its enrollment (QR code
// and setup key, both carrying the TOTP seed) as an attachment; how it
// reaches the person is chosen here, by channels.teams.enroll_delivery:
//
//   - page (default): the attachment becomes a one-time link (Action.OpenUrl)
//     to resetbot's enrollment page (core/enrollpage); nothing of the seed
//     enters Teams.
//   - chat (opt-in): the QR code is shown in the card as a data: URI image.
//     The card is frozen (image removed) when the person moves on, or after
//     qrMaxAge by whichever replica sweeps the durable clean-up queue first.
//     The setup key is not shown: Teams has no ephemeral surface, and a card
//     stays in the history; people enrolling on the same phone need the page.

const (
	// attachmentLink is the attachment kind of a page link (Text is its URL).
	attachmentLink = "link"
	// stateEnrollTOTP is the flow state in which the enrollment is shown.
	stateEnrollTOTP = "enroll_totp"
	// sweepEvery is how often each replica sweeps the clean-up queue.
	sweepEvery = 30 * time.Second
)

// qrMaxAge is how long an enrollment QR card may stay on screen; the pending
// enrollment it shows expires by then anyway.
const qrMaxAge = 10 * time.Minute

func pageConversation(convID string) string { return Channel + ":" + convID }

// prepareEnroll adapts a reply's enrollment attachment to the delivery mode
// before it is rendered, and revokes an unopened page when the conversation
// has left the enrollment step.
func (b *Bot) prepareEnroll(ctx context.Context, to target, r engine.Reply, locale string) engine.Reply {
	if r.Locale != "" {
		locale = r.Locale
	}
	if r.State != stateEnrollTOTP && b.pages != nil {
		if err := b.pages.Revoke(ctx, pageConversation(to.convID)); err != nil {
			b.log.Warn("teams: enrollment page not revoked", "err", err)
		}
	}
	var outs []engine.Output
	for i, o := range r.Outputs {
		if o.Attachment == nil || o.Attachment.Kind != "qr" {
			continue
		}
		if outs == nil {
			outs = append([]engine.Output(nil), r.Outputs...)
		}
		if !b.cfg.EnrollPage() {
			a := *o.Attachment
			a.Text = secret.String{} // the setup key never goes into a card
			outs[i].Attachment = &a
			continue
		}
		outs[i] = b.pageLink(ctx, to, r.Ref, locale, o.Attachment)
	}
	if outs != nil {
		r.Outputs = outs
	}
	return r
}

// pageLink issues the enrollment page and returns the output that offers it.
// Without pages nothing is shown: the seed never falls back into the chat.
func (b *Bot) pageLink(ctx context.Context, to target, ref, locale string, a *engine.Attachment) engine.Output {
	failed := engine.Output{MessageID: "enroll.totp.link_failed", Args: map[string]string{"ref": ref}, Error: true}
	if b.pages == nil {
		b.log.Error("teams: enrollment page unavailable: no server.public_url", "ref", ref)
		return failed
	}
	l, err := b.pages.Issue(ctx, enrollpage.Grant{Conversation: pageConversation(to.convID), Channel: Channel,
		Platform: "Microsoft Teams", Locale: locale, PNG: a.PNG, Key: a.Text})
	if err != nil {
		b.log.Error("teams: enrollment page not issued", "ref", ref, "err", err)
		return failed
	}
	return engine.Output{MessageID: "enroll.totp.link", Sensitive: true,
		Attachment: &engine.Attachment{Kind: attachmentLink, Text: l.URL}}
}

// freezeJob is a queued freezing of a QR card.
type freezeJob struct {
	ServiceURL string `json:"s"`
	ConvID     string `json:"c"`
	CardID     string `json:"i"`
}

// scheduleFreeze queues the freezing of QR card id after qrMaxAge in the
// durable clean-up queue.
func (b *Bot) scheduleFreeze(ctx context.Context, to target, id string) {
	data, _ := json.Marshal(freezeJob{ServiceURL: to.serviceURL, ConvID: to.convID, CardID: id})
	if err := b.cleanups.Schedule(ctx, to.convID, string(data), b.now().Add(qrMaxAge)); err != nil {
		// Without a durable freeze the QR would outlive the enrollment.
		b.log.Error("teams: QR card freeze not queued; freezing it now", "err", err)
		b.freezeIf(ctx, to, id)
	}
}

// SweepCleanups freezes the due QR cards of every replica once.
func (b *Bot) SweepCleanups(ctx context.Context) (int, error) {
	return b.cleanups.Sweep(ctx, b.sweepCard)
}

func (b *Bot) sweepCard(ctx context.Context, j enrollpage.Job) error {
	var f freezeJob
	if err := json.Unmarshal([]byte(j.Data), &f); err != nil || f.ConvID == "" {
		return nil // nothing usable to retry
	}
	if !b.conn.AllowedServiceURL(f.ServiceURL) {
		return errors.New("teams: queued serviceUrl no longer allowed")
	}
	b.freezeIf(ctx, target{f.ServiceURL, f.ConvID}, f.CardID)
	return nil
}

// RunCleanups sweeps the clean-up queue every sweepEvery until ctx ends
// (chat delivery only; the channel's Start runs it).
func (b *Bot) RunCleanups(ctx context.Context) {
	b.cleanups.Run(ctx, sweepEvery, b.sweepCard)
}
