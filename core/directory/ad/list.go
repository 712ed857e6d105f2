package ad

import (
	"context"
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/internal/paging"
)

var _ directory.Lister = (*Directory)(nil)

// List implements directory.Lister: the person accounts under BaseDN, with
// the paged results control (AD answers at most MaxPageSize, 1000 by
// default, entries per request; past that a plain search fails with a size
// limit).
func (d *Directory) List(ctx context.Context, pageSize int, fn func([]directory.User) error) error {
	if pageSize < 1 {
		return fmt.Errorf("ad list: page size %d", pageSize)
	}
	var fnErr error
	err := d.pool.do(ctx, false, func(c *ldap.Conn) error {
		req := ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, 0, false, "(&"+d.people()+")", d.userAttrs(), nil)
		var err error
		_, fnErr, err = paging.Map(c, req, uint32(pageSize), d.toUser, fn)
		return err
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return translate("list", err)
	}
	return nil
}
