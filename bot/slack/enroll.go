package slack

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/store"
)

// Authenticator enrollment delivery. The flow emits its enrollment (QR code
// and setup key, both carrying the TOTP seed) as an attachment; how it
// reaches the person is chosen here, by channels.slack.enroll_delivery:
//
//   - page (default): the attachment becomes a one-time link to resetbot's
//     enrollment page (core/enrollpage); nothing of the seed enters Slack.
//   - chat (opt-in): the QR code is uploaded to the DM and deleted when the
//     person leaves the step, or after qrMaxAge by whichever replica sweeps
//     the durable clean-up queue first; the setup key goes in an ephemeral
//     note, which Slack does not keep in the history.

const (
	// attachmentLink is the attachment kind of a page link (Text is its URL).
	attachmentLink = "link"
	// actionSetupLink is the link button's action ID; its click is ignored.
	actionSetupLink = "rb_setup_link"
	// qrMaxAge is how long an enrollment QR may stay in the DM: the pending
	// enrollment it shows expires by then anyway.
	qrMaxAge = 10 * time.Minute
	// sweepEvery is how often each replica sweeps the clean-up queue.
	sweepEvery = 30 * time.Second
)

// deliver posts a reply in the DM. In chat mode a QR attachment splits the
// reply: the text before it, the image, then the rest. A post that fails
// (after post's retries) ends the delivery with its error.
func (b *Bot) deliver(ctx context.Context, j job, r engine.Reply, loc string) error {
	key := userKey(j.team, j.user)
	outs := append([]engine.Output(nil), r.Outputs...)
	start := 0
	for i, o := range outs {
		if o.Attachment == nil || o.Attachment.Kind != "qr" {
			continue
		}
		if b.o.Config.EnrollPage() {
			outs[i] = b.pageLink(ctx, key, r.Ref, loc, o.Attachment)
			continue
		}
		blocks, text := b.render(loc, key, r.Step, outs[start:i+1])
		if err := b.post(ctx, j, blocks, text); err != nil {
			return err
		}
		b.uploadQR(ctx, j, loc, o.Attachment)
		start = i + 1
	}
	if start < len(outs) {
		blocks, text := b.render(loc, key, r.Step, outs[start:])
		if err := b.post(ctx, j, blocks, text); err != nil {
			return err
		}
	}
	// A QR or a page is shown only in the enrollment flow: other turns look
	// for one only when this replica showed one to the user (others are
	// deleted by the durable clean-up queue, pages expire).
	if r.State != stateEnrollTOTP && (r.Flow == flowEnroll || b.hasQR(key)) {
		b.deleteQR(ctx, key)
		if b.o.Pages != nil {
			if err := b.o.Pages.Revoke(ctx, pageConversation(key)); err != nil {
				b.log.Warn("slack enrollment page not revoked", "err", err)
			}
		}
	}
	return nil
}

func pageConversation(key string) string { return Channel + ":" + key }

// pageLink issues the enrollment page and returns the output that offers it.
// Without pages (misconfiguration) nothing is shown: the seed never falls
// back into the chat.
func (b *Bot) pageLink(ctx context.Context, key, ref, loc string, a *engine.Attachment) engine.Output {
	failed := engine.Output{MessageID: "enroll.totp.link_failed", Args: map[string]string{"ref": ref}, Error: true}
	if b.o.Pages == nil {
		b.log.Error("slack enrollment page unavailable: no server.public_url", "ref", ref)
		return failed
	}
	l, err := b.o.Pages.Issue(ctx, enrollpage.Grant{Conversation: pageConversation(key), Channel: Channel,
		Platform: "Slack", Locale: loc, PNG: a.PNG, Key: a.Text})
	if err != nil {
		b.log.Error("slack enrollment page not issued", "ref", ref, "err", err)
		return failed
	}
	b.qrs.Store(key, struct{}{})
	return engine.Output{MessageID: "enroll.totp.link", Sensitive: true,
		Attachment: &engine.Attachment{Kind: attachmentLink, Text: l.URL}}
}

// linkButton opens the enrollment page in the browser. Slack does not
// unfurl button URLs; the page itself consumes nothing on GET anyway.
func (b *Bot) linkButton(loc string, i int, url string) slack.Block {
	btn := slack.NewButtonBlockElement(actionSetupLink, "",
		slack.NewTextBlockObject(slack.PlainTextType, clip(b.text(loc, "chat.button.open_setup"), 75), true, false))
	btn.URL = url
	btn.Style = slack.StylePrimary
	return slack.NewActionBlock("link"+strconv.Itoa(i), btn)
}

// uploadQR posts the enrollment QR code as an image in the DM (files upload
// v2) and the setup key as an ephemeral note (chat mode only).
func (b *Bot) uploadQR(ctx context.Context, j job, loc string, a *engine.Attachment) {
	ch, err := b.channel(ctx, j)
	if err != nil {
		b.log.Warn("slack DM unavailable", "err", err)
		return
	}
	if len(a.PNG) > 0 {
		f, err := b.api.UploadFileContext(ctx, slack.UploadFileParameters{Reader: bytes.NewReader(a.PNG), FileSize: len(a.PNG),
			Filename: "authenticator-qr.png", Title: b.text(loc, "slack.qr_alt"), AltTxt: b.text(loc, "slack.qr_alt"), Channel: ch})
		if err != nil {
			b.log.Warn("slack QR upload failed", "err", err)
		} else {
			b.rememberQR(ctx, userKey(j.team, j.user), f.ID)
		}
	}
	if !a.Text.Empty() {
		note := b.o.Messages.Text(loc, "enroll.totp.key_private", false, map[string]string{"key": a.Text.Reveal()})
		if _, err := b.api.PostEphemeralContext(ctx, ch, j.user, slack.MsgOptionText(note, false)); err != nil {
			b.log.Warn("slack setup key not shown", "err", err)
		}
	}
}

func qrKey(user string) string { return "slack:qr:" + user }

// rememberQR records an uploaded QR file in the shared store, so whichever
// replica handles the user's next turn deletes it, and queues its deletion
// after qrMaxAge in the durable clean-up queue for a user who walks away.
func (b *Bot) rememberQR(ctx context.Context, key, fileID string) {
	b.qrs.Store(key, struct{}{})
	for range 3 {
		var ver uint64
		ids := fileID
		rec, err := b.o.Store.Get(ctx, qrKey(key))
		switch {
		case err == nil:
			ver, ids = rec.Version, string(rec.Value)+","+fileID
		case !errors.Is(err, store.ErrNotFound):
			b.log.Warn("slack QR not recorded", "err", err)
			continue
		}
		if _, err := b.o.Store.CompareAndSwap(ctx, qrKey(key), ver, []byte(ids), qrMaxAge+time.Hour); err == nil {
			break
		}
	}
	if err := b.cleanups.Schedule(ctx, key, key, b.now().Add(qrMaxAge)); err != nil {
		// Without a durable deletion the QR would outlive the enrollment.
		b.log.Error("slack QR deletion not queued; deleting it now", "err", err)
		b.deleteQR(ctx, key)
	}
}

// deleteQR deletes the user's enrollment QR files, wherever they were posted from.
func (b *Bot) deleteQR(ctx context.Context, key string) {
	b.qrs.Delete(key)
	rec, err := b.o.Store.Get(ctx, qrKey(key))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			b.log.Warn("slack QR lookup failed", "err", err)
		}
		return
	}
	var failed error
	for _, id := range strings.Split(string(rec.Value), ",") {
		if err := b.api.DeleteFileContext(ctx, id); err != nil && !strings.Contains(err.Error(), "file_not_found") {
			b.log.Warn("slack QR delete failed", "err", err)
			failed = err
		}
	}
	if failed != nil {
		return // the record stays: the queued clean-up retries
	}
	if err := b.o.Store.Delete(ctx, qrKey(key)); err != nil {
		b.log.Warn("slack QR record not deleted", "err", err)
	}
	if err := b.cleanups.Cancel(ctx, key); err != nil {
		b.log.Warn("slack QR clean-up not cancelled", "err", err)
	}
}

// SweepCleanups runs the due QR deletions of every replica's uploads once.
func (b *Bot) SweepCleanups(ctx context.Context) (int, error) {
	return b.cleanups.Sweep(ctx, b.sweepQR)
}

func (b *Bot) sweepQR(ctx context.Context, j enrollpage.Job) error {
	b.deleteQR(ctx, j.Data)
	if _, err := b.o.Store.Get(ctx, qrKey(j.Data)); err == nil {
		return errors.New("slack: QR file still recorded")
	}
	return nil
}

// sweep runs SweepCleanups every sweepEvery until ctx ends.
func (b *Bot) sweep(ctx context.Context) {
	b.cleanups.Run(ctx, sweepEvery, b.sweepQR)
}
