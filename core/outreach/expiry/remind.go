package expiry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// ReasonNotDue is a listed account outside every threshold (a listing
// that raced the clock): nothing to send.
const ReasonNotDue = "not_due"

// claimMargin keeps a claim past the password's expiry, so the last
// reminder of a password can never be sent twice.
const claimMargin = 48 * time.Hour

// remind decides about one account and sends its reminder when due. It
// returns the Reason*.
func (s *Scheduler) remind(ctx context.Context, e directory.Expiry) string {
	now := s.o.Clock()
	left := e.ExpiresAt.Sub(now)
	t, ok := s.threshold(left)
	if !ok || left <= 0 {
		return ReasonNotDue
	}
	// One password (account + change time), one threshold: one reminder.
	parts := []string{e.User.Directory, e.User.ID, e.ChangedAt.UTC().Format(time.RFC3339Nano), t.String()}
	// A read first, so accounts already reminded cost no platform lookup.
	if _, err := s.o.Store.Get(ctx, s.o.Keys.Name("once:"+Kind, parts...)); err == nil {
		return ReasonDuplicate
	} else if !errors.Is(err, store.ErrNotFound) {
		return s.failed(ctx, e, t, "", fmt.Errorf("expiry: read claim: %w", err))
	}
	r, err := outreach.Resolve(ctx, s.o.Messengers, e.User)
	switch {
	case errors.Is(err, outreach.ErrUnmapped) && (s.o.Email == nil || e.User.Email == ""):
		return ReasonUnmapped
	case errors.Is(err, outreach.ErrUnmapped):
		r = outreach.Recipient{Channel: string(notify.ChannelEmail)}
	case err != nil:
		return s.failed(ctx, e, t, "", err)
	}
	if s.o.Quiet.In(now, r.TimeZone) {
		return ReasonQuietHours
	}
	claimed, err := s.once.Claim(ctx, Kind, left+claimMargin, parts...)
	if err != nil {
		return s.failed(ctx, e, t, r.Channel, err)
	}
	if !claimed {
		return ReasonDuplicate
	}
	// Claimed before sending: a crash now loses one reminder (the next
	// threshold still comes), never sends two.
	ref := outreach.NewRef()
	if err := s.deliver(ctx, ref, e, r, left); err != nil {
		return s.failed(ctx, e, t, r.Channel, err)
	}
	s.audit(ctx, audit.Event{Name: EventName, Ref: ref, Channel: r.Channel, Actor: userKey(e.User),
		Outcome: audit.OutcomeSuccess, Reason: ReasonSent, Fields: fields(e, t)})
	return ReasonSent
}

// failed logs and audits a reminder that could not be sent.
func (s *Scheduler) failed(ctx context.Context, e directory.Expiry, t time.Duration, channel string, err error) string {
	s.o.Log.Warn("expiry reminder failed", "channel", channel, "err", err)
	s.audit(ctx, audit.Event{Name: EventName, Channel: channel, Actor: userKey(e.User),
		Outcome: audit.OutcomeError, Reason: ReasonError, Fields: fields(e, t)})
	return ReasonError
}

func fields(e directory.Expiry, t time.Duration) map[string]string {
	return map[string]string{"directory": e.User.Directory, "threshold_days": strconv.Itoa(int(t.Hours() / 24)),
		"expires_at": e.ExpiresAt.UTC().Format(time.RFC3339)}
}

func userKey(u directory.User) string { return u.Directory + ":" + u.ID }

// deliver sends the reminder: a DM with the Change it now button, or an
// e-mail with the link.
func (s *Scheduler) deliver(ctx context.Context, ref string, e directory.Expiry, r outreach.Recipient, left time.Duration) error {
	locale := e.User.PreferredLanguage
	if locale == "" {
		locale = r.Locale
	}
	if locale == "" {
		locale = s.o.Locale
	}
	id, args := s.body(e, r, left)
	if r.Channel == string(notify.ChannelEmail) {
		body := s.o.Renderer.Text(locale, id, false, args) + "\n\n" +
			s.o.Renderer.Text(locale, "expiry.link", false, map[string]string{"link": s.o.ChangeURL})
		return s.o.Email.Send(ctx, notify.Message{Kind: notify.KindNotice, To: e.User.Email,
			Subject: s.o.Renderer.Text(locale, "expiry.reminder.subject", false, nil),
			Body:    secret.New(body), Summary: id, Locale: locale})
	}
	if err := s.remember(ctx, ref, e.User, r); err != nil {
		return err
	}
	n := outreach.Notice{Ref: ref, Kind: Kind, MessageID: id, Args: args, Locale: locale,
		Actions: []outreach.Action{{ID: outreach.ActionChange, MessageID: "expiry.change_now"}}}
	if err := outreach.Send(ctx, s.o.Messengers, r, n); err != nil {
		return fmt.Errorf("expiry: %w", err)
	}
	return nil
}

// body picks the message and its arguments: whole days left (rounded), and
// the expiry in the user's zone when the platform knows it.
func (s *Scheduler) body(e directory.Expiry, r outreach.Recipient, left time.Duration) (string, map[string]string) {
	loc := time.UTC
	if s.o.Quiet.Zone != nil {
		loc = s.o.Quiet.Zone
	}
	if r.TimeZone != "" {
		if l, err := time.LoadLocation(r.TimeZone); err == nil {
			loc = l
		}
	}
	days := int(math.Round(left.Hours() / 24))
	args := map[string]string{"date": e.ExpiresAt.In(loc).Format("2006-01-02 15:04 MST"), "days": strconv.Itoa(days)}
	if days <= 1 {
		return "expiry.reminder.last_day", args
	}
	return "expiry.reminder", args
}

// noticeRecord is what a reminder's button finds in the store.
type noticeRecord = outreach.NoticeRecord

func noticeKey(ref string) string { return "out:expiry:notice:" + ref }

func (s *Scheduler) remember(ctx context.Context, ref string, u directory.User, r outreach.Recipient) error {
	b, err := json.Marshal(noticeRecord{Directory: u.Directory, UserID: u.ID, Channel: r.Channel, ChatUser: r.User})
	if err != nil {
		return err
	}
	if _, err := s.o.Store.Set(ctx, noticeKey(ref), b, s.o.NoticeTTL); err != nil {
		return fmt.Errorf("expiry: store notice: %w", err)
	}
	return nil
}
