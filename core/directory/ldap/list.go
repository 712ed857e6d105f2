package ldap

import (
	"context"
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/internal/paging"
)

var _ directory.Lister = (*Directory)(nil)

// List implements directory.Lister: the entries under BaseDN matching
// UserFilter, with the paged results control.
func (d *Directory) List(ctx context.Context, pageSize int, fn func([]directory.User) error) error {
	if pageSize < 1 {
		return fmt.Errorf("ldap list: page size %d", pageSize)
	}
	var fnErr error
	err := d.op(ctx, "list", func(c *ldap.Conn, sent *bool) error {
		req := ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, 0, false, d.cfg.UserFilter, d.userAttrs(), nil)
		started, ferr, err := paging.Map(c, req, uint32(pageSize), d.toUser, fn)
		fnErr = ferr
		// Once a page is delivered the listing is not retried: fn would
		// see the same users again.
		*sent = *sent || started
		return err
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}
