package ldap

import (
	"context"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/internal/paging"
)

var _ directory.LockoutSource = (*Directory)(nil)

// lockoutPage is the paging size of a lockout read.
const lockoutPage = 500

// genTime is the GeneralizedTime layout ppolicy writes.
const genTime = "20060102150405Z"

// Lockouts implements directory.LockoutSource with the ppolicy lock time
// itself as the high-water mark: pwdAccountLockedTime has an ordering
// rule (generalizedTimeOrderingMatch), so "(pwdAccountLockedTime>=cursor)"
// returns only accounts locked since the last poll, whatever else changed
// in the entry (modifyTimestamp also moves on every password change and
// profile edit, which would re-read unlocked noise). The cursor is the
// latest lock time seen; the read overlaps by that one second so a lock
// committed within it is not missed. An administrator's lock
// (000001010000Z) sorts before any cursor and is only seen by a first read,
// marked Admin.
//
// Load: without an index on pwdAccountLockedTime, slapd evaluates the
// filter over the candidate entries of the base (see docs/outreach.md for
// measured numbers); only matching entries cross the network.
func (d *Directory) Lockouts(ctx context.Context, q directory.LockoutQuery) (directory.LockoutRead, error) {
	from := q.Cursor
	if _, ok := parseTime(from); !ok {
		from = ""
	}
	if from == "" && !q.Since.IsZero() {
		from = q.Since.UTC().Format(genTime)
	}
	out := directory.LockoutRead{Full: q.Cursor == "", Cursor: from}
	filter := d.lockoutFilter(q, from)
	attrs := append(d.userAttrs(), attrLockedTime)
	bases := q.Bases
	if len(bases) == 0 {
		bases = []string{d.cfg.BaseDN}
	}
	latest, _ := parseTime(from)
	err := d.op(ctx, "lockouts", func(c *ldap.Conn, _ *bool) error {
		out.Lockouts, out.Entries = nil, 0
		n, err := paging.Bases(c, bases, filter, attrs, lockoutPage, func(e *ldap.Entry) {
			l, ok := d.lockout(e, q.Since)
			if !ok {
				return
			}
			out.Lockouts = append(out.Lockouts, l)
			if l.At.After(latest) {
				latest = l.At
			}
		})
		out.Entries += n
		return err
	})
	if err != nil {
		return directory.LockoutRead{}, err
	}
	if !latest.IsZero() {
		out.Cursor = latest.UTC().Format(genTime)
	}
	return out, nil
}

// lockout maps one entry; ok is false for a lock older than since.
func (d *Directory) lockout(e *ldap.Entry, since time.Time) (directory.Lockout, bool) {
	u := d.toUser(e)
	v := e.GetAttributeValue(attrLockedTime)
	if v == permanentLock {
		return directory.Lockout{User: u, Admin: true}, true
	}
	at, ok := parseTime(v)
	if !ok || at.Before(since) {
		return directory.Lockout{}, false
	}
	return directory.Lockout{User: u, At: at}, true
}

// lockoutFilter selects users locked at or after from (any lock when from
// is empty), optionally members of q.Groups (memberOf overlay).
func (d *Directory) lockoutFilter(q directory.LockoutQuery, from string) string {
	var f strings.Builder
	f.WriteString("(&" + d.cfg.UserFilter)
	if from == "" {
		f.WriteString("(" + attrLockedTime + "=*)")
	} else {
		f.WriteString("(" + attrLockedTime + ">=" + ldap.EscapeFilter(from) + ")")
	}
	if len(q.Groups) > 0 {
		f.WriteString("(|")
		for _, g := range q.Groups {
			f.WriteString("(memberOf=" + ldap.EscapeFilter(g) + ")")
		}
		f.WriteString(")")
	}
	f.WriteString(")")
	return f.String()
}
