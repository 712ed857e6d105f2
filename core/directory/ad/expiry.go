package ad

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
)

var _ directory.ExpiryLister = (*Directory)(nil)

// expiryPageSize is the page size of the expiry search (AD's MaxPageSize is 1000).
const expiryPageSize = 500

// attrExpiryComputed is the constructed attribute AD (and Samba 4) computes
// per entry from pwdLastSet and the effective policy, fine-grained password
// policies (PSOs) included. Being constructed, it cannot be used in a filter.
const attrExpiryComputed = "msDS-UserPasswordExpiryTimeComputed"

// ExpiringWithin implements directory.ExpiryLister. The search filters on a
// pwdLastSet range wide enough for every maximum password age in force (the
// domain's maxPwdAge and the msDS-MaximumPasswordAge of each readable PSO),
// so only accounts that may expire in the window are read; the exact expiry
// of each comes from msDS-UserPasswordExpiryTimeComputed. Disabled accounts,
// "password never expires" and pwdLastSet=0 (must change) are left out by the
// filter. PSOs the service account cannot read (by default only
// administrators can) are not seen: their users are found only when the
// domain's age brackets theirs.
func (d *Directory) ExpiringWithin(ctx context.Context, within time.Duration) ([]directory.Expiry, error) {
	if within <= 0 {
		return nil, fmt.Errorf("ad expiring: window %v must be positive", within)
	}
	var out []directory.Expiry
	err := d.pool.do(ctx, false, func(c *ldap.Conn) error {
		out = nil
		shortest, longest, err := d.maxAgeBounds(c)
		if err != nil || longest == 0 {
			return err
		}
		now := d.now()
		f := fmt.Sprintf("(&%s(pwdLastSet>=%d)(pwdLastSet<=%d)"+
			"(!(userAccountControl:1.2.840.113556.1.4.803:=%d))(!(userAccountControl:1.2.840.113556.1.4.803:=%d)))",
			d.people(), ntTicks(now.Add(-longest)), ntTicks(now.Add(within-shortest)), uacAccountDisable, uacDontExpire)
		attrs := append(d.userAttrs(), "pwdLastSet", attrExpiryComputed)
		res, err := c.SearchWithPaging(ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree,
			ldap.NeverDerefAliases, 0, 0, false, f, attrs, nil), expiryPageSize)
		if err != nil {
			return err
		}
		for _, e := range res.Entries {
			v := attrInt(e, attrExpiryComputed)
			exp := ntTime(v)
			if exp.IsZero() || !exp.After(now) || exp.After(now.Add(within)) {
				continue
			}
			out = append(out, directory.Expiry{User: d.toUser(e), ChangedAt: ntTime(attrInt(e, "pwdLastSet")), ExpiresAt: exp})
		}
		return nil
	})
	return out, translate("expiring", err)
}

// uacDontExpire is userAccountControl DONT_EXPIRE_PASSWORD.
const uacDontExpire = 0x10000

// maxAgeBounds returns the shortest and longest maximum password age in
// force (domain and readable PSOs); longest 0 means no password expires.
func (d *Directory) maxAgeBounds(c *ldap.Conn) (shortest, longest time.Duration, err error) {
	if _, err := d.policy(c); err != nil { // reads and caches the domain DN
		return 0, 0, err
	}
	d.mu.Lock()
	dn := d.domainDN
	d.mu.Unlock()
	ages := []time.Duration{}
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{"maxPwdAge"}, nil))
	if err != nil {
		return 0, 0, err
	}
	if len(res.Entries) == 1 {
		ages = append(ages, maxAge(res.Entries[0].GetAttributeValue("maxPwdAge")))
	}
	pso, err := c.Search(ldap.NewSearchRequest("CN=Password Settings Container,CN=System,"+dn, ldap.ScopeSingleLevel,
		ldap.NeverDerefAliases, 0, 0, false, "(objectClass=msDS-PasswordSettings)", []string{"msDS-MaximumPasswordAge"}, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return 0, 0, err
	}
	if pso != nil {
		for _, e := range pso.Entries {
			ages = append(ages, maxAge(e.GetAttributeValue("msDS-MaximumPasswordAge")))
		}
	}
	for _, a := range ages {
		if a <= 0 {
			continue
		}
		if shortest == 0 || a < shortest {
			shortest = a
		}
		longest = max(longest, a)
	}
	return shortest, longest, nil
}

// maxAge converts a maxPwdAge value; 0 for "never" (0 or math.MinInt64).
func maxAge(s string) time.Duration {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v == 0 {
		return 0
	}
	dur, forever := ntInterval(v)
	if forever {
		return 0
	}
	return dur
}

// ntTicks converts t to an AD timestamp (100 ns intervals since 1601, UTC).
func ntTicks(t time.Time) int64 {
	s := t.Unix() + ntEpochDelta
	if s <= 0 {
		return 0
	}
	if s > math.MaxInt64/10_000_000 {
		return math.MaxInt64
	}
	return s*10_000_000 + int64(t.Nanosecond()/100)
}
