package lockout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/outreach"
)

// EventName is the audit event of every outreach decision about a lockout.
const EventName = "outreach.lockout"

// Reasons a lockout gets no notice (audit Reason, metric label).
const (
	ReasonAdminLock   = "admin_lock"
	ReasonSprayPaused = "spray_paused"
	ReasonNotLocked   = "not_locked"
	ReasonHeld        = "held"
	ReasonProtected   = "protected"
	ReasonUnmapped    = "unmapped"
	ReasonQuietHours  = "quiet_hours"
	ReasonRateLimited = "rate_limited"
	ReasonError       = "error"
	ReasonSent        = "sent"
)

// Kind is the Notice kind of a lockout notice.
const Kind = "lockout"

// handle decides about one new lockout and sends the notice; it reports
// whether a notice went out.
func (w *Watcher) handle(ctx context.Context, l directory.Lockout, paused bool) bool {
	ev := audit.Event{Name: EventName, Actor: userKey(l.User), Outcome: audit.OutcomeDenied,
		Fields: map[string]string{"directory": w.o.Directory}}
	if !l.At.IsZero() {
		ev.Fields["locked_at"] = l.At.UTC().Format(time.RFC3339)
	}
	reason, r, err := w.decide(ctx, l, paused)
	if err != nil {
		w.o.Log.Warn("lockout outreach failed", "directory", w.o.Directory, "reason", reason, "err", err)
		ev.Outcome = audit.OutcomeError
	}
	ev.Reason = reason
	if r.Channel != "" {
		ev.Channel = r.Channel
	}
	if reason == ReasonQuietHours {
		ev.Fields["deferred"] = fmt.Sprint(w.deferLockout(ctx, l, r.TimeZone))
	}
	if reason != ReasonSent {
		w.audit(ctx, ev)
		return false
	}
	n := w.notice(l, r)
	if err := w.remember(ctx, n.Ref, l, r); err != nil {
		ev.Outcome, ev.Reason = audit.OutcomeError, ReasonError
		w.o.Log.Warn("lockout outreach: store notice failed", "err", err)
		w.audit(ctx, ev)
		return false
	}
	ev.Ref = n.Ref
	if err := w.send(ctx, r, n); err != nil {
		ev.Outcome, ev.Reason = audit.OutcomeError, ReasonError
		w.o.Log.Warn("lockout outreach: send failed", "channel", r.Channel, "ref", n.Ref, "err", err)
		w.audit(ctx, ev)
		return false
	}
	ev.Outcome = audit.OutcomeSuccess
	w.audit(ctx, ev)
	return true
}

// decide runs the checks in order and returns ReasonSent with the
// recipient when the notice may go out.
func (w *Watcher) decide(ctx context.Context, l directory.Lockout, paused bool) (string, outreach.Recipient, error) {
	var none outreach.Recipient
	if l.Admin {
		return ReasonAdminLock, none, nil
	}
	if paused {
		return ReasonSprayPaused, none, nil
	}
	// The directory's own view decides, read now: a lock that ended, an
	// account an administrator holds or a protected one is never offered.
	st, err := w.o.Dir.Status(ctx, l.User)
	switch {
	case err != nil:
		return ReasonError, none, err
	case st.Hold() != directory.HoldNone || st.AdminLocked:
		return ReasonHeld, none, nil
	case st.Protected:
		return ReasonProtected, none, nil
	case !st.Locked:
		return ReasonNotLocked, none, nil
	}
	r, err := outreach.Resolve(ctx, w.o.Messengers, l.User)
	if err != nil {
		if errors.Is(err, outreach.ErrUnmapped) {
			return ReasonUnmapped, none, nil
		}
		return ReasonError, none, err
	}
	if w.o.Quiet.In(w.o.Clock(), r.TimeZone) {
		return ReasonQuietHours, r, nil
	}
	ok, err := w.once.Allow(ctx, "lockout", w.o.RatePerUser, w.o.RateWindow, w.o.Directory, l.User.ID)
	if err != nil {
		return ReasonError, r, err
	}
	if !ok {
		return ReasonRateLimited, r, nil
	}
	return ReasonSent, r, nil
}

func (w *Watcher) send(ctx context.Context, r outreach.Recipient, n outreach.Notice) error {
	if err := outreach.Send(ctx, w.o.Messengers, r, n); err != nil {
		return fmt.Errorf("lockout: %w", err)
	}
	return nil
}

// notice builds the DM: when it was locked (in the user's zone when the
// platform knows it), Unlock and Not me.
func (w *Watcher) notice(l directory.Lockout, r outreach.Recipient) outreach.Notice {
	loc := w.o.Quiet.zone(r.TimeZone)
	locale := l.User.PreferredLanguage
	if locale == "" {
		locale = r.Locale
	}
	if locale == "" {
		locale = w.o.Locale
	}
	return outreach.Notice{Ref: outreach.NewRef(), Kind: Kind, MessageID: "outreach.lockout", Locale: locale,
		Args: map[string]string{"when": l.At.In(loc).Format("2006-01-02 15:04 MST")},
		Actions: []outreach.Action{{ID: outreach.ActionUnlock, MessageID: "outreach.unlock"},
			{ID: outreach.ActionNotMe, MessageID: "outreach.not_me", Danger: true}}}
}

// noticeRecord is what a notice's buttons find in the store.
type noticeRecord struct {
	outreach.NoticeRecord
	LockedAt time.Time `json:"at"`
}

func noticeKey(ref string) string { return "out:notice:" + ref }

func (w *Watcher) remember(ctx context.Context, ref string, l directory.Lockout, r outreach.Recipient) error {
	b, err := json.Marshal(noticeRecord{NoticeRecord: outreach.NoticeRecord{Directory: w.o.Directory,
		UserID: l.User.ID, Channel: r.Channel, ChatUser: r.User}, LockedAt: l.At})
	if err != nil {
		return err
	}
	_, err = w.o.Store.Set(ctx, noticeKey(ref), b, w.o.NoticeTTL)
	return err
}

func (w *Watcher) audit(ctx context.Context, e audit.Event) {
	if w.o.Audit != nil {
		_ = w.o.Audit.Write(ctx, e)
	}
}
