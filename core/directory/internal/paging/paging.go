// Package paging runs an LDAP search with the Simple Paged Results control
// (RFC 2696), handing each page to a callback: the LDAP and AD directories
// list the accounts in scope with it without holding them all in memory,
// and without hitting the server's size limit (AD's MaxPageSize, 1000).
package paging

import (
	"errors"

	"github.com/go-ldap/ldap/v3"
)

// Each runs req page by page (size entries at most per page) on c and calls
// fn with each page's entries. It stops at the last page, at fn's first
// error (returned as is), or at a search error. When it stops early it
// abandons the paged search (a request with size 0 and the cookie), so the
// server frees its state. started reports whether fn was called at least
// once (a caller must then not retry: pages were delivered).
func Each(c *ldap.Conn, req *ldap.SearchRequest, size uint32, fn func([]*ldap.Entry) error) (started bool, err error) {
	ctl := ldap.NewControlPaging(size)
	req.Controls = append(req.Controls, ctl)
	for {
		res, err := c.Search(req)
		if err != nil {
			return started, err
		}
		if res == nil {
			return started, errors.New("paging: no search result")
		}
		started = true
		if err := fn(res.Entries); err != nil {
			abandon(c, req, ctl)
			return started, err
		}
		var cookie []byte
		if p, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging); ok {
			cookie = p.Cookie
		}
		if len(cookie) == 0 {
			return started, nil
		}
		ctl.SetCookie(cookie)
	}
}

// abandon tells the server the paged search is over (RFC 2696 §3: a size
// of 0 with the cookie). Its failure changes nothing for the caller.
func abandon(c *ldap.Conn, req *ldap.SearchRequest, ctl *ldap.ControlPaging) {
	ctl.PagingSize = 0
	_, _ = c.Search(req)
}

// Map is Each for a caller that hands out its own values: it converts each
// page's entries with conv and calls fn with them. err is what Each
// returns (fn's error included, so the caller's connection handling sees
// the search stop as before); fnErr is fn's error alone, which the caller
// returns as is rather than as a directory fault.
func Map[T any](c *ldap.Conn, req *ldap.SearchRequest, size uint32, conv func(*ldap.Entry) T, fn func([]T) error) (started bool, fnErr, err error) {
	started, err = Each(c, req, size, func(es []*ldap.Entry) error {
		page := make([]T, len(es))
		for i, e := range es {
			page[i] = conv(e)
		}
		fnErr = fn(page)
		return fnErr
	})
	return started, fnErr, err
}

// Bases runs the subtree search for filter under each of bases in turn, size
// entries per page, and calls fn with every entry found. A base that does
// not exist is skipped, so one stale or mistyped base does not hide the
// others. n counts the entries read, also when err stops it early.
func Bases(c *ldap.Conn, bases []string, filter string, attrs []string, size uint32, fn func(*ldap.Entry)) (n int, err error) {
	for _, base := range bases {
		res, err := c.SearchWithPaging(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree,
			ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil), size)
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			continue
		}
		if err != nil {
			return n, err
		}
		n += len(res.Entries)
		for _, e := range res.Entries {
			fn(e)
		}
	}
	return n, nil
}
