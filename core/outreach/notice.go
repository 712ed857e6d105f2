package outreach

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"strings"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/store"
)

// Resolve asks each messenger in turn for u; ErrUnmapped when none knows
// them. Failures of the messengers that were asked are joined (and then
// returned instead of ErrUnmapped), so a platform outage is not mistaken
// for an unreachable user.
func Resolve(ctx context.Context, ms []DirectMessenger, u directory.User) (Recipient, error) {
	var errs []error
	for _, m := range ms {
		r, err := m.Resolve(ctx, u)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, ErrUnmapped) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return Recipient{}, errors.Join(errs...)
	}
	return Recipient{}, ErrUnmapped
}

// Send delivers n through the messenger of r's channel (the one that
// resolved r). The error for a channel no messenger serves carries no
// package prefix: callers wrap it with theirs.
func Send(ctx context.Context, ms []DirectMessenger, r Recipient, n Notice) error {
	for _, m := range ms {
		if m.Channel() == r.Channel {
			return m.Send(ctx, r, n)
		}
	}
	return errors.New("no messenger for channel " + r.Channel)
}

// NewRef is a notice's reference: random, 16 base32 characters, no account
// data.
func NewRef() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// NoticeRecord is what every kind of notice keeps in the store for its
// buttons: whose account it is about and whom it was sent to. A kind with
// more to keep embeds it (its JSON stays flat).
type NoticeRecord struct {
	Directory string `json:"d"`
	UserID    string `json:"u"`
	Channel   string `json:"c"`
	ChatUser  string `json:"cu"`
}

// Actor is the account the notice is about, as audit records name it.
func (n NoticeRecord) Actor() string { return n.Directory + ":" + n.UserID }

func (n *NoticeRecord) record() *NoticeRecord { return n }

// noticeRecorder is a *NoticeRecord or a pointer to a struct embedding one.
type noticeRecorder interface{ record() *NoticeRecord }

// ReadNotice reads the record stored at key into rec (a *NoticeRecord or a
// pointer to a struct that embeds NoticeRecord) and says whether who may
// answer it. It is false, with no error, for a record that is missing,
// unreadable or was sent to someone else — a forwarded or replayed button
// does nothing — and the caller answers all of those the same way. Only a
// store failure is an error, returned as the store gave it for the caller
// to wrap.
func ReadNotice(ctx context.Context, st store.Store, key string, who Recipient, rec noticeRecorder) (bool, error) {
	v, err := st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(v.Value, rec); err != nil {
		return false, nil
	}
	n := rec.record()
	return n.Channel == who.Channel && n.ChatUser == who.User, nil
}
