package ad

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/internal/paging"
)

var _ directory.LockoutSource = (*Directory)(nil)

// lockoutPage is the paging size of a lockout read (a first read after a
// wave may return many entries).
const lockoutPage = 500

// Lockouts implements directory.LockoutSource by uSNChanged: every write
// to an entry on this domain controller (lockoutTime included, it is a
// replicated attribute) raises the entry's uSNChanged to the DC's next
// update sequence number, so "(uSNChanged>=cursor+1)" reads only what
// changed since the last poll. USNs are per DC: the cursor carries the
// DC's dsServiceName and a cursor from another DC (a load balancer
// switched) starts a full read, bounded by q.Since.
//
// The next cursor is the highestCommittedUSN read before the search, so a
// change committed while the search runs is read again next time, never
// missed. badPwdCount and badPasswordTime are not replicated and do not
// move uSNChanged; the source of the failed logons (the Security event
// log's 4740 "Caller Computer Name") is not readable over LDAP at all.
func (d *Directory) Lockouts(ctx context.Context, q directory.LockoutQuery) (directory.LockoutRead, error) {
	var out directory.LockoutRead
	err := d.pool.do(ctx, false, func(c *ldap.Conn) error {
		dsa, high, err := rootUSN(c)
		if err != nil {
			return err
		}
		from, full := parseUSNCursor(q.Cursor, dsa)
		out.Full = full
		out.Cursor = dsa + "|" + strconv.FormatInt(high, 10)
		filter := d.lockoutFilter(q, from)
		n, err := paging.Bases(c, d.lockoutBases(q), filter, append(d.userAttrs(), "lockoutTime", "userAccountControl"),
			lockoutPage, func(e *ldap.Entry) {
				at := ntTime(attrInt(e, "lockoutTime"))
				if at.IsZero() || at.Before(q.Since) {
					return
				}
				out.Lockouts = append(out.Lockouts, directory.Lockout{User: d.toUser(e), At: at,
					Admin: attrInt(e, "userAccountControl")&uacAccountDisable != 0})
			})
		out.Entries += n
		return err
	})
	return out, translate("lockouts", err)
}

// rootUSN reads the DC's identity and its highest committed USN.
func rootUSN(c *ldap.Conn) (dsa string, high int64, err error) {
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"dsServiceName", "highestCommittedUSN"}, nil))
	if err != nil {
		return "", 0, err
	}
	if len(res.Entries) != 1 {
		return "", 0, fmt.Errorf("%w: ad: rootDSE not readable", directory.ErrUnavailable)
	}
	e := res.Entries[0]
	high, err = strconv.ParseInt(e.GetAttributeValue("highestCommittedUSN"), 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("%w: ad: rootDSE has no highestCommittedUSN", directory.ErrUnavailable)
	}
	return e.GetAttributeValue("dsServiceName"), high, nil
}

// parseUSNCursor returns the USN to read from, or 0 and full=true when the
// cursor is empty, malformed or from another DC.
func parseUSNCursor(cursor, dsa string) (from int64, full bool) {
	i := strings.LastIndexByte(cursor, '|')
	if i < 0 || !strings.EqualFold(cursor[:i], dsa) {
		return 0, true
	}
	n, err := strconv.ParseInt(cursor[i+1:], 10, 64)
	if err != nil || n < 0 {
		return 0, true
	}
	return n, false
}

// lockoutFilter selects person accounts locked at or after q.Since whose
// entry changed after USN from, optionally in q.Groups (nested).
func (d *Directory) lockoutFilter(q directory.LockoutQuery, from int64) string {
	var f strings.Builder
	f.WriteString("(&" + d.people())
	since := int64(1)
	if !q.Since.IsZero() {
		since = ntFromTime(q.Since)
	}
	f.WriteString("(lockoutTime>=" + strconv.FormatInt(since, 10) + ")")
	if from > 0 {
		f.WriteString("(uSNChanged>=" + strconv.FormatInt(from+1, 10) + ")")
	}
	if len(q.Groups) > 0 {
		f.WriteString("(|")
		for _, g := range q.Groups {
			f.WriteString("(memberOf:1.2.840.113556.1.4.1941:=" + ldap.EscapeFilter(g) + ")")
		}
		f.WriteString(")")
	}
	f.WriteString(")")
	return f.String()
}

// lockoutBases returns q.Bases, or the configured base DN.
func (d *Directory) lockoutBases(q directory.LockoutQuery) []string {
	if len(q.Bases) == 0 {
		return []string{d.cfg.BaseDN}
	}
	return q.Bases
}

// ntFromTime converts t to an AD timestamp (whole seconds).
func ntFromTime(t time.Time) int64 { return (t.Unix() + ntEpochDelta) * 10_000_000 }
