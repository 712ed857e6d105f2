package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/internal/ldapconn"
)

// Directory is an LDAP directory. It is safe for concurrent use.
type Directory struct {
	cfg  Config
	tls  *tls.Config
	base *ldap.DN
	pool *ldapconn.Pool
}

var (
	_ directory.Directory = (*Directory)(nil)
	_ directory.Checker   = (*Directory)(nil)
	_ directory.Closer    = (*Directory)(nil)
)

// Open validates cfg with production's rules (Config.Validate) and returns
// a directory. It does not connect: call Check to prove the server,
// certificate and service account work.
func Open(ctx context.Context, cfg Config) (*Directory, error) {
	return open(ctx, cfg, true)
}

// open validates cfg under the mode's rules and builds the Directory.
func open(ctx context.Context, cfg Config, production bool) (*Directory, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := ldapconn.Check(&cfg, "ldap", production); err != nil {
		return nil, err
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("ldap config: %w", err)
	}
	base, err := ldap.ParseDN(cfg.BaseDN)
	if err != nil {
		return nil, fmt.Errorf("ldap config: base_dn: %w", err)
	}
	d := &Directory{cfg: cfg, tls: tc, base: base}
	d.pool = ldapconn.NewPool(cfg.PoolSize, cfg.RequestTimeout, d.dial)
	return d, nil
}

// Close closes the pooled connections. Requests in flight finish first.
func (d *Directory) Close() error {
	d.pool.Close()
	return nil
}

// Check binds as the service account and reads the base entry and each
// protected group, so a wrong URL, certificate, password or DN fails at startup.
func (d *Directory) Check(ctx context.Context) error {
	return d.op(ctx, "check", func(c *ldap.Conn, _ *bool) error {
		if err := c.Bind(d.cfg.BindDN, d.cfg.BindPassword.Reveal()); err != nil {
			return bindError{err}
		}
		for _, dn := range append([]string{d.cfg.BaseDN}, d.cfg.ProtectedGroups...) {
			_, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
				1, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
			if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
				return fmt.Errorf("entry %q does not exist or is not readable: %w", dn, directory.ErrUnavailable)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{5,14}$`)

// Find implements directory.Directory. User input only ever reaches the
// server through ldap.EscapeFilter.
func (d *Directory) Find(ctx context.Context, key directory.Key, value string) ([]directory.User, error) {
	a := d.cfg.Attributes
	var attr string
	switch key {
	case directory.ByLogin:
		attr = a.Login
	case directory.ByEmail:
		attr = a.Email
	case directory.ByPhone:
		attr = a.Mobile
		if !e164.MatchString(value) {
			value = "" // not a phone number: nothing can match
		}
	case directory.ByEmployeeNumber:
		attr = a.EmployeeNumber
	default:
		return nil, fmt.Errorf("ldap find: unknown lookup key %q", key)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ldap find: %w", err)
	}
	users := []directory.User{}
	if strings.TrimSpace(value) == "" {
		return users, nil
	}
	filter := fmt.Sprintf("(&%s(%s=%s))", d.cfg.UserFilter, attr, ldap.EscapeFilter(value))
	err := d.op(ctx, "find", func(c *ldap.Conn, _ *bool) error {
		// A size limit of 10 is plenty: two results already mean "shared".
		res, err := c.Search(ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			10, 0, false, filter, d.userAttrs(), nil))
		if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
			return err
		}
		if res != nil {
			for _, e := range res.Entries {
				users = append(users, d.toUser(e))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return users, nil
}

func (d *Directory) userAttrs() []string {
	a := d.cfg.Attributes
	attrs := []string{a.Login, a.Email, a.Mobile, a.EmployeeNumber, a.DisplayName, a.GivenName, a.Surname,
		d.cfg.PreferredLanguage}
	for _, extra := range []string{a.RecoveryEmail, a.Manager} {
		if extra != "" {
			attrs = append(attrs, extra)
		}
	}
	return attrs
}

func (d *Directory) toUser(e *ldap.Entry) directory.User {
	a := d.cfg.Attributes
	return directory.User{
		ID:                e.DN,
		Login:             e.GetAttributeValue(a.Login),
		DisplayName:       e.GetAttributeValue(a.DisplayName),
		PreferredLanguage: e.GetAttributeValue(d.cfg.PreferredLanguage),
		GivenName:         e.GetAttributeValue(a.GivenName),
		Surname:           e.GetAttributeValue(a.Surname),
		Email:             e.GetAttributeValue(a.Email),
		Mobile:            normalizePhone(e.GetAttributeValue(a.Mobile)),
		EmployeeNumber:    e.GetAttributeValue(a.EmployeeNumber),
		RecoveryEmail:     optAttr(e, a.RecoveryEmail),
		Manager:           optAttr(e, a.Manager),
	}
}

// optAttr reads an optional attribute; "" when it is not mapped.
func optAttr(e *ldap.Entry, attr string) string {
	if attr == "" {
		return ""
	}
	return e.GetAttributeValue(attr)
}

// normalizePhone turns "+1 (555) 555-0101" into "+15555550101".
func normalizePhone(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -().", r) {
			return -1
		}
		return r
	}, s)
}

// entry reads the user entry u.ID with attrs. IDs outside BaseDN or not
// matching UserFilter are not found: a forged ID cannot reach other entries.
func (d *Directory) entry(c *ldap.Conn, u directory.User, attrs ...string) (*ldap.Entry, error) {
	dn, err := ldap.ParseDN(u.ID)
	if err != nil || !d.base.AncestorOfFold(dn) {
		return nil, directory.ErrNotFound
	}
	if len(attrs) == 0 {
		attrs = []string{"1.1"} // no attributes, just the entry
	}
	res, err := c.Search(ldap.NewSearchRequest(u.ID, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, d.cfg.UserFilter, attrs, nil))
	if err != nil {
		return nil, err
	}
	if len(res.Entries) == 0 {
		return nil, directory.ErrNotFound
	}
	return res.Entries[0], nil
}

// protected reports whether the entry dn is protected by ProtectedFilter or
// membership of a ProtectedGroup. A missing protected group is an error:
// the check fails closed.
func (d *Directory) protected(c *ldap.Conn, dn string) (bool, error) {
	if d.cfg.ProtectedFilter != "" {
		res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
			1, 0, false, d.cfg.ProtectedFilter, []string{"1.1"}, nil))
		if err != nil {
			return false, err
		}
		if len(res.Entries) > 0 {
			return true, nil
		}
	}
	esc := ldap.EscapeFilter(dn)
	for _, g := range d.cfg.ProtectedGroups {
		res, err := c.Search(ldap.NewSearchRequest(g, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
			1, 0, false, "(|(member="+esc+")(uniqueMember="+esc+"))", []string{"1.1"}, nil))
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return false, fmt.Errorf("protected group %q not found: %w", g, directory.ErrUnavailable)
		}
		if err != nil {
			return false, err
		}
		if len(res.Entries) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// Operational attributes of the ppolicy overlay.
const (
	attrLockedTime  = "pwdAccountLockedTime"
	attrFailureTime = "pwdFailureTime"
	attrChangedTime = "pwdChangedTime"
	attrPolicy      = "pwdPolicySubentry"
	attrReset       = "pwdReset"
	// attrEndTime (ppolicy, OpenLDAP 2.5+) is when the account stops working.
	attrEndTime = "pwdEndTime"
	// attrShadowExpire (nis schema) is the account's expiry, in days since 1970.
	attrShadowExpire = "shadowExpire"
	// permanentLock is the pwdAccountLockedTime of an administrative lock:
	// ppolicy keeps the account locked until an administrator removes it,
	// whatever pwdLockoutDuration says. A lockout after failed binds holds
	// the time of the last failure instead.
	permanentLock = "000001010000Z"
)

// holdAttrs are the attributes hold reads.
func (d *Directory) holdAttrs(more ...string) []string {
	attrs := append([]string{attrLockedTime, attrEndTime, attrShadowExpire}, more...)
	if d.cfg.DisabledAttribute != "" {
		attrs = append(attrs, d.cfg.DisabledAttribute)
	}
	return attrs
}

// held fills the administrator's part of the status from e: disabled
// (configured attribute), expired (pwdEndTime or shadowExpire reached) and
// locked by an administrator (000001010000Z).
func (d *Directory) held(e *ldap.Entry, st *directory.Status) {
	now := d.cfg.Now()
	if dis := d.disabled(); dis.Attr != "" {
		for _, v := range e.GetAttributeValues(dis.Attr) {
			if dis.Value == "" || strings.EqualFold(v, dis.Value) {
				st.Disabled = true
			}
		}
	}
	if end, ok := parseTime(e.GetAttributeValue(attrEndTime)); ok && !end.After(now) {
		st.Expired = true
	}
	var days int64
	if _, err := fmt.Sscan(e.GetAttributeValue(attrShadowExpire), &days); err == nil && days >= 0 {
		// shadowExpire -1 (or absent) means never; day N ends at midnight UTC.
		if !time.Unix(0, 0).UTC().AddDate(0, 0, int(days)).After(now) {
			st.Expired = true
		}
	}
	if e.GetAttributeValue(attrLockedTime) == permanentLock {
		st.Locked, st.AdminLocked = true, true
	}
}

// refuseHeld returns a *directory.HeldError for an account e that an
// administrator disabled, let expire or locked.
func (d *Directory) refuseHeld(e *ldap.Entry) error {
	var st directory.Status
	d.held(e, &st)
	return directory.Refuse(st)
}

// Status implements directory.Directory.
func (d *Directory) Status(ctx context.Context, u directory.User) (directory.Status, error) {
	var st directory.Status
	err := d.op(ctx, "status", func(c *ldap.Conn, _ *bool) error {
		e, err := d.entry(c, u, d.holdAttrs(attrChangedTime, attrPolicy)...)
		if err != nil {
			return err
		}
		if st.Protected, err = d.protected(c, e.DN); err != nil {
			return err
		}
		pol, err := d.policy(c, e.GetAttributeValue(attrPolicy))
		if err != nil {
			return err
		}
		st = d.status(e, pol, st.Protected)
		return nil
	})
	return st, err
}

// policy holds the ppolicy values Status needs.
type policy struct{ minAge, maxAge, lockoutDuration time.Duration }

// policy reads the entry dn (or the configured default); a missing entry is no policy.
func (d *Directory) policy(c *ldap.Conn, dn string) (policy, error) {
	if dn == "" {
		dn = d.cfg.PolicyDN
	}
	if dn == "" {
		return policy{}, nil
	}
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{"pwdMinAge", "pwdMaxAge", "pwdLockoutDuration"}, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return policy{}, nil
	}
	if err != nil || len(res.Entries) == 0 {
		return policy{}, err
	}
	secs := func(name string) time.Duration {
		var n int64
		_, _ = fmt.Sscan(res.Entries[0].GetAttributeValue(name), &n)
		return time.Duration(n) * time.Second
	}
	return policy{minAge: secs("pwdMinAge"), maxAge: secs("pwdMaxAge"), lockoutDuration: secs("pwdLockoutDuration")}, nil
}

// status computes the status from the entry and its policy.
func (d *Directory) status(e *ldap.Entry, pol policy, protected bool) directory.Status {
	now := d.cfg.Now()
	st := directory.Status{Protected: protected}
	d.held(e, &st)
	if lt := e.GetAttributeValue(attrLockedTime); lt != "" && !st.AdminLocked {
		st.Locked = true
		if t, ok := parseTime(lt); ok && lt != permanentLock && pol.lockoutDuration > 0 {
			st.LockedUntil = t.Add(pol.lockoutDuration)
			st.Locked = now.Before(st.LockedUntil)
			if !st.Locked {
				st.LockedUntil = time.Time{}
			}
		}
	}
	if changed, ok := parseTime(e.GetAttributeValue(attrChangedTime)); ok {
		if pol.minAge > 0 && changed.Add(pol.minAge).After(now) {
			st.PasswordChangeableAt = changed.Add(pol.minAge)
		}
		if pol.maxAge > 0 && !changed.Add(pol.maxAge).After(now) {
			st.PasswordExpired = true
		}
	}
	return st
}

// parseTime parses an LDAP GeneralizedTime such as 20261127143000Z or
// 20261127143000.123456Z.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		if j := strings.IndexAny(s[i:], "Z+-"); j >= 0 {
			s = s[:i] + s[i+j:]
		}
	}
	for _, layout := range []string{"20060102150405Z", "20060102150405-0700", "200601021504Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// Manager reads the entry named by u's manager attribute, for notices. A
// manager outside BaseDN or not matching UserFilter is not found.
func (d *Directory) Manager(ctx context.Context, u directory.User) (directory.User, bool, error) {
	if u.Manager == "" {
		return directory.User{}, false, nil
	}
	var out directory.User
	found := false
	err := d.op(ctx, "manager", func(c *ldap.Conn, _ *bool) error {
		e, err := d.entry(c, directory.User{ID: u.Manager}, d.userAttrs()...)
		if errors.Is(err, directory.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out, found = d.toUser(e), true
		return nil
	})
	return out, found, err
}
