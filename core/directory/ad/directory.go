// Package ad is the Active Directory backend of resetbot: it finds users,
// reads their account state, resets passwords by replacing unicodePwd and
// unlocks accounts by clearing lockoutTime, over LDAPS or StartTLS only.
//
// The service account needs no more than the "Reset Password" extended right
// and write access to pwdLastSet and lockoutTime on the OUs it serves (never
// Domain Admin); as SDDL on the OU, inherited by user objects:
//
//	(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;<bot SID>)
//	(OA;CIIO;WP;bf967a0a-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;<bot SID>)
//	(OA;CIIO;WP;28630ebf-41d5-11d1-a9c1-0000f80367c1;bf967aba-0de6-11d0-a285-00aa003049e2;<bot SID>)
//
// An account outside those OUs comes back as directory.ErrProtected. It
// must also be able to read tokenGroups (Authenticated Users can by default).
//
// Protected accounts (adminCount=1, built-in and critical
// system accounts, members of privileged groups or of configured protected
// groups, nested groups included) are refused before anything is written.
package ad

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/internal/ldapconn"
	"github.com/resetbot/resetbot/core/secret"
)

// Directory is an Active Directory domain. It is safe for concurrent use.
type Directory struct {
	cfg  Config
	pool *pool
	now  func() time.Time

	mu       sync.Mutex
	domainDN string // defaultNamingContext, read once

	// beforeWrite, set only by tests, runs between the checks and the write.
	beforeWrite func()
}

var (
	_ directory.Directory = (*Directory)(nil)
	_ directory.Checker   = (*Directory)(nil)
	_ directory.Closer    = (*Directory)(nil)
)

// Open validates cfg (Config.Validate; AD's rules do not depend on the
// mode) and returns a Directory. It does not connect: call
// Check to test the connection and the service account.
func Open(ctx context.Context, cfg Config) (*Directory, error) {
	cfg = cfg.withDefaults()
	if err := ldapconn.Check(&cfg, "ad", true); err != nil {
		return nil, err
	}
	return open(ctx, cfg, false)
}

// open builds the Directory; allowPlain (tests only) lets reads run over a
// plain connection so that the write path's own TLS check can be tested.
func open(_ context.Context, cfg Config, allowPlain bool) (*Directory, error) {
	cfg = cfg.withDefaults()
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	return &Directory{cfg: cfg, pool: newPool(cfg, tc, allowPlain), now: time.Now}, nil
}

// Check binds as the service account and reads the base DN.
func (d *Directory) Check(ctx context.Context) error {
	err := d.pool.do(ctx, false, func(c *ldap.Conn) error {
		_, err := c.Search(ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
			1, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
		return err
	})
	return translate("check base_dn "+d.cfg.BaseDN, err)
}

// Close closes the pooled connections.
func (d *Directory) Close() error {
	d.pool.close()
	return nil
}

// personFilter limits lookups to people: no computers (objectCategory
// computer), no contacts (objectClass contact).
const personFilter = "(objectCategory=person)(objectClass=user)"

// people returns the filter items every user search ANDs: person accounts,
// narrowed by the configured user_filter when it is not the default.
func (d *Directory) people() string {
	if d.cfg.UserFilter == "" || d.cfg.UserFilter == DefaultUserFilter {
		return personFilter
	}
	return personFilter + d.cfg.UserFilter
}

// maxResults bounds a lookup; more than one result already means "ask for more".
const maxResults = 10

// Find returns the user accounts whose attribute for key equals value.
func (d *Directory) Find(ctx context.Context, key directory.Key, value string) ([]directory.User, error) {
	// No identifier holds control characters; refusing them also stops a
	// NUL from cutting the value short on the server (Samba matches "jdoe\x00"
	// as "jdoe").
	if strings.TrimSpace(value) == "" || strings.ContainsFunc(value, unicode.IsControl) {
		return nil, ctx.Err()
	}
	v := ldap.EscapeFilter(value)
	var f string
	switch key {
	case directory.ByLogin:
		f = "(" + d.cfg.Attributes.Login + "=" + v + ")(userPrincipalName=" + v + ")"
		if d.cfg.Domain != "" && !strings.Contains(value, "@") {
			f += "(userPrincipalName=" + v + "@" + ldap.EscapeFilter(d.cfg.Domain) + ")"
		}
		f = "(|" + f + ")"
	case directory.ByEmail:
		f = "(" + d.cfg.Attributes.Email + "=" + v + ")"
	case directory.ByPhone:
		f = "(" + d.cfg.Attributes.Mobile + "=" + v + ")"
	case directory.ByEmployeeNumber:
		f = "(" + d.cfg.Attributes.EmployeeNumber + "=" + v + ")"
	default:
		return nil, fmt.Errorf("ad: unknown lookup key %q", key)
	}
	var entries []*ldap.Entry
	err := d.pool.do(ctx, false, func(c *ldap.Conn) error {
		res, err := c.Search(ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			maxResults, 0, false, "(&"+d.people()+f+")", d.userAttrs(), nil))
		if res != nil {
			entries = res.Entries
		}
		if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, translate("find", err)
	}
	users := make([]directory.User, 0, len(entries))
	for _, e := range entries {
		users = append(users, d.toUser(e))
	}
	return users, nil
}

// userAttrs are the attributes a directory.User is read from.
func (d *Directory) userAttrs() []string {
	a := d.cfg.Attributes
	attrs := []string{a.Login, "userPrincipalName", a.DisplayName, a.GivenName, a.Surname, "preferredLanguage",
		a.Email, a.Mobile, a.EmployeeNumber}
	for _, extra := range []string{a.RecoveryEmail, a.Manager} {
		if extra != "" {
			attrs = append(attrs, extra)
		}
	}
	return attrs
}

// toUser maps an entry read with userAttrs.
func (d *Directory) toUser(e *ldap.Entry) directory.User {
	a := d.cfg.Attributes
	return directory.User{
		ID: e.DN, Directory: d.cfg.Name, Login: e.GetAttributeValue(a.Login),
		DisplayName: e.GetAttributeValue(a.DisplayName), GivenName: e.GetAttributeValue(a.GivenName),
		Surname: e.GetAttributeValue(a.Surname), Email: e.GetAttributeValue(a.Email),
		Mobile: e.GetAttributeValue(a.Mobile), EmployeeNumber: e.GetAttributeValue(a.EmployeeNumber),
		RecoveryEmail: optAttr(e, a.RecoveryEmail), Manager: optAttr(e, a.Manager),
		PreferredLanguage: e.GetAttributeValue("preferredLanguage"),
	}
}

// Manager reads the entry named by u's manager attribute, for notices (the
// policy's notify_manager). A manager outside BaseDN, or not a person
// account, is not found: the notice then goes nowhere rather than to an
// entry the bot would never serve.
func (d *Directory) Manager(ctx context.Context, u directory.User) (directory.User, bool, error) {
	if u.Manager == "" {
		return directory.User{}, false, nil
	}
	mdn, err1 := ldap.ParseDN(u.Manager)
	base, err2 := ldap.ParseDN(d.cfg.BaseDN)
	if err1 != nil || err2 != nil || !base.AncestorOfFold(mdn) {
		return directory.User{}, false, ctx.Err()
	}
	var out directory.User
	found := false
	err := d.pool.do(ctx, false, func(c *ldap.Conn) error {
		res, err := c.Search(ldap.NewSearchRequest(u.Manager, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
			1, 0, false, "(&"+d.people()+")", d.userAttrs(), nil))
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(res.Entries) == 1 {
			out, found = d.toUser(res.Entries[0]), true
		}
		return nil
	})
	if err != nil {
		return directory.User{}, false, translate("manager", err)
	}
	return out, found, nil
}

// Status reads the account's state: disabled, locked (lockoutTime against the
// domain lockoutDuration), expired, password expired, protected, and when the
// minimum password age allows the next change.
func (d *Directory) Status(ctx context.Context, u directory.User) (directory.Status, error) {
	var st directory.Status
	err := d.pool.do(ctx, false, func(c *ldap.Conn) error {
		e, protected, err := d.readUser(c, u.ID)
		if err != nil {
			return err
		}
		pol, err := d.policy(c)
		if err != nil {
			return err
		}
		st = status(e, pol, d.now())
		st.Protected = protected
		return nil
	})
	return st, translate("status", err)
}

// ResetPassword replaces unicodePwd as an administrator would, and with
// opts.MustChange sets pwdLastSet=0 in the same modify. Protected accounts
// are refused (directory.ErrProtected) before anything is written.
func (d *Directory) ResetPassword(ctx context.Context, u directory.User, password secret.String, opts directory.ResetOptions) error {
	if password.Empty() {
		return &directory.RefusedError{Reason: directory.ReasonTooShort, Detail: "the password is empty"}
	}
	if err := d.guard(ctx, u); err != nil {
		return err
	}
	if d.beforeWrite != nil {
		d.beforeWrite()
	}
	m := ldap.NewModifyRequest(u.ID, nil)
	m.Replace("unicodePwd", []string{unicodePwd(password)})
	if opts.MustChange {
		m.Replace("pwdLastSet", []string{"0"})
	}
	err := d.pool.do(ctx, true, func(c *ldap.Conn) error { return c.Modify(m) })
	return translate("reset password", err)
}

// Unlock clears a lockout by writing lockoutTime=0 (harmless when the account
// is not locked). Protected, disabled and expired accounts are refused. AD
// has no separate "administrator's lock": a lockout with lockoutDuration
// "forever" still comes from failed logons and may be lifted; an
// administrator who means to stop an account disables it.
func (d *Directory) Unlock(ctx context.Context, u directory.User) error {
	if err := d.guard(ctx, u); err != nil {
		return err
	}
	if d.beforeWrite != nil {
		d.beforeWrite()
	}
	m := ldap.NewModifyRequest(u.ID, nil)
	m.Replace("lockoutTime", []string{"0"})
	err := d.pool.do(ctx, true, func(c *ldap.Conn) error { return c.Modify(m) })
	return translate("unlock", err)
}

// guard returns ErrProtected (or ErrNotFound) unless the account may be
// changed, and *directory.HeldError for an account an administrator disabled
// or let expire: clearing lockoutTime or setting a password on it would be
// self-service undoing an administrator's decision. The hold is checked even
// with AllowProtected.
func (d *Directory) guard(ctx context.Context, u directory.User) error {
	if u.ID == "" {
		return fmt.Errorf("%w: ad: user has no ID", directory.ErrNotFound)
	}
	var st directory.Status
	err := d.pool.do(ctx, false, func(c *ldap.Conn) error {
		e, protected, err := d.readUser(c, u.ID)
		if err != nil {
			return err
		}
		st = status(e, domainPolicy{}, d.now())
		st.Protected = protected
		return nil
	})
	if err != nil {
		return translate("check account", err)
	}
	if st.Protected && !d.cfg.AllowProtected {
		return fmt.Errorf("%w: ad: %s", directory.ErrProtected, u.ID)
	}
	if err := directory.Refuse(st); err != nil {
		return fmt.Errorf("ad: %s: %w", u.ID, err)
	}
	return nil
}

// readUser reads a user entry by DN and decides whether it is protected.
func (d *Directory) readUser(c *ldap.Conn, dn string) (*ldap.Entry, bool, error) {
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(&"+d.people()+")", statusAttrs, nil))
	if err != nil {
		return nil, false, err
	}
	if len(res.Entries) != 1 {
		return nil, false, fmt.Errorf("%w: ad: %s is not a user account", directory.ErrNotFound, dn)
	}
	e := res.Entries[0]
	if protectedByAttrs(e) {
		return e, true, nil
	}
	if len(d.cfg.ProtectedGroups) == 0 {
		return e, false, nil
	}
	// LDAP_MATCHING_RULE_IN_CHAIN follows nested groups on the server.
	var f strings.Builder
	f.WriteString("(|")
	for _, g := range d.cfg.ProtectedGroups {
		f.WriteString("(memberOf:1.2.840.113556.1.4.1941:=" + ldap.EscapeFilter(g) + ")")
	}
	f.WriteString(")")
	res, err = c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, f.String(), []string{"1.1"}, nil))
	if err != nil {
		return nil, false, err
	}
	return e, len(res.Entries) > 0, nil
}

// policy reads minPwdAge and lockoutDuration from the domain object.
func (d *Directory) policy(c *ldap.Conn) (domainPolicy, error) {
	d.mu.Lock()
	dn := d.domainDN
	d.mu.Unlock()
	if dn == "" {
		res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
			1, 0, false, "(objectClass=*)", []string{"defaultNamingContext"}, nil))
		if err != nil {
			return domainPolicy{}, err
		}
		if len(res.Entries) == 1 {
			dn = res.Entries[0].GetAttributeValue("defaultNamingContext")
		}
		if dn == "" {
			return domainPolicy{}, fmt.Errorf("ad: rootDSE has no defaultNamingContext")
		}
		d.mu.Lock()
		d.domainDN = dn
		d.mu.Unlock()
	}
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", policyAttrs, nil))
	if err != nil {
		return domainPolicy{}, err
	}
	if len(res.Entries) != 1 {
		return domainPolicy{}, fmt.Errorf("ad: domain object %s not readable", dn)
	}
	return parsePolicy(res.Entries[0]), nil
}

// optAttr reads an optional attribute; "" when it is not mapped.
func optAttr(e *ldap.Entry, attr string) string {
	if attr == "" {
		return ""
	}
	return e.GetAttributeValue(attr)
}
