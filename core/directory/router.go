package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/resetbot/resetbot/core/secret"
)

// Route is one named directory behind a Router.
type Route struct {
	// Name is the configured name; it becomes User.Directory.
	Name string
	// Dir is the directory.
	Dir Directory
	// Domains are the email / UPN domains (e.g. "corp.example", which also
	// matches "eu.corp.example") and NetBIOS domain names (e.g. "CORP", for
	// logins like CORP\alice) this directory holds. Case-insensitive.
	Domains []string
}

// Router is a Directory over several named directories. Lookups whose value
// names a domain (alice@corp.example, CORP\alice) go to the directory holding
// that domain; other lookups ask every directory in order and return all
// matches, so a value found in two directories shows up as shared. Status,
// ResetPassword and Unlock go to the directory named by User.Directory.
type Router struct {
	routes []Route
	byName map[string]int
}

var (
	_ Lister    = (*Router)(nil)
	_ Directory = (*Router)(nil)
	_ Checker   = (*Router)(nil)
	_ Closer    = (*Router)(nil)
)

// NewRouter returns a router over routes, tried in the given order. Names
// must be unique and non-empty and a domain may belong to one route only.
func NewRouter(routes ...Route) (*Router, error) {
	if len(routes) == 0 {
		return nil, errors.New("directory router: no directories")
	}
	r := &Router{byName: map[string]int{}}
	domains := map[string]string{}
	for i, rt := range routes {
		if rt.Name == "" || rt.Dir == nil {
			return nil, fmt.Errorf("directory router: directory #%d needs a name and a backend", i+1)
		}
		if _, dup := r.byName[rt.Name]; dup {
			return nil, fmt.Errorf("directory router: duplicate directory name %q", rt.Name)
		}
		r.byName[rt.Name] = i
		for _, d := range rt.Domains {
			d = strings.ToLower(strings.TrimSpace(d))
			if other, dup := domains[d]; dup {
				return nil, fmt.Errorf("directory router: domain %q belongs to both %q and %q", d, other, rt.Name)
			}
			domains[d] = rt.Name
		}
		r.routes = append(r.routes, rt)
	}
	return r, nil
}

// domainRoute returns the route holding domain (longest suffix wins), or -1.
func (r *Router) domainRoute(domain string) int {
	domain = strings.ToLower(domain)
	best, bestLen := -1, 0
	for i, rt := range r.routes {
		for _, d := range rt.Domains {
			d = strings.ToLower(strings.TrimSpace(d))
			if d == "" {
				continue
			}
			if (domain == d || strings.HasSuffix(domain, "."+d)) && len(d) > bestLen {
				best, bestLen = i, len(d)
			}
		}
	}
	return best
}

// splitLogin splits alice@corp.example and CORP\alice into name and domain.
func splitLogin(login string) (name, domain string, ok bool) {
	if i := strings.LastIndexByte(login, '@'); i > 0 && i < len(login)-1 {
		return login[:i], login[i+1:], true
	}
	if i := strings.IndexByte(login, '\\'); i > 0 && i < len(login)-1 {
		return login[i+1:], login[:i], true
	}
	return login, "", false
}

// Find implements Directory.
func (r *Router) Find(ctx context.Context, key Key, value string) ([]User, error) {
	if key == ByLogin || key == ByEmail {
		if name, domain, ok := splitLogin(value); ok {
			if i := r.domainRoute(domain); i >= 0 {
				return r.findRouted(ctx, i, key, value, name)
			}
		}
	}
	users := []User{}
	for i := range r.routes {
		found, err := r.findIn(ctx, i, key, value)
		if err != nil {
			return nil, err
		}
		users = append(users, found...)
	}
	return users, nil
}

// findRouted looks value up in route i. A login with a domain is tried as
// given (a UPN), then by its bare name, since OpenLDAP uids carry no domain
// and NetBIOS-style logins never match as a whole.
func (r *Router) findRouted(ctx context.Context, i int, key Key, value, name string) ([]User, error) {
	if key == ByLogin && strings.Contains(value, `\`) {
		return r.findIn(ctx, i, key, name)
	}
	users, err := r.findIn(ctx, i, key, value)
	if err != nil || len(users) > 0 || key != ByLogin {
		return users, err
	}
	return r.findIn(ctx, i, key, name)
}

func (r *Router) findIn(ctx context.Context, i int, key Key, value string) ([]User, error) {
	rt := r.routes[i]
	users, err := rt.Dir.Find(ctx, key, value)
	if err != nil {
		return nil, fmt.Errorf("directory %q: %w", rt.Name, err)
	}
	for j := range users {
		users[j].Directory = rt.Name
	}
	return users, nil
}

// route returns the directory named by u.Directory. An empty name is
// accepted only when there is a single directory.
func (r *Router) route(u User) (Route, error) {
	if u.Directory == "" && len(r.routes) == 1 {
		return r.routes[0], nil
	}
	i, ok := r.byName[u.Directory]
	if !ok {
		return Route{}, fmt.Errorf("directory %q is not configured: %w", u.Directory, ErrNotFound)
	}
	return r.routes[i], nil
}

// Status implements Directory.
func (r *Router) Status(ctx context.Context, u User) (Status, error) {
	rt, err := r.route(u)
	if err != nil {
		return Status{}, err
	}
	st, err := rt.Dir.Status(ctx, u)
	if err != nil {
		return Status{}, fmt.Errorf("directory %q: %w", rt.Name, err)
	}
	return st, nil
}

// ResetPassword implements Directory.
func (r *Router) ResetPassword(ctx context.Context, u User, password secret.String, opts ResetOptions) error {
	rt, err := r.route(u)
	if err != nil {
		return err
	}
	if err := rt.Dir.ResetPassword(ctx, u, password, opts); err != nil {
		return fmt.Errorf("directory %q: %w", rt.Name, err)
	}
	return nil
}

// Unlock implements Directory.
func (r *Router) Unlock(ctx context.Context, u User) error {
	rt, err := r.route(u)
	if err != nil {
		return err
	}
	if err := rt.Dir.Unlock(ctx, u); err != nil {
		return fmt.Errorf("directory %q: %w", rt.Name, err)
	}
	return nil
}

// Check runs Check on every directory that implements Checker and joins the failures.
func (r *Router) Check(ctx context.Context) error {
	var errs []error
	for _, rt := range r.routes {
		if c, ok := rt.Dir.(Checker); ok {
			if err := c.Check(ctx); err != nil {
				errs = append(errs, fmt.Errorf("directory %q: %w", rt.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Close closes every directory that implements Closer and joins the failures.
func (r *Router) Close() error {
	var errs []error
	for _, rt := range r.routes {
		if c, ok := rt.Dir.(Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("directory %q: %w", rt.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Manager finds u's manager in u's directory, when that directory can
// (ldap and memory read the manager attribute's entry); false otherwise.
func (r *Router) Manager(ctx context.Context, u User) (User, bool, error) {
	rt, err := r.route(u)
	if err != nil {
		return User{}, false, err
	}
	mr, ok := rt.Dir.(interface {
		Manager(ctx context.Context, u User) (User, bool, error)
	})
	if !ok {
		return User{}, false, nil
	}
	m, found, err := mr.Manager(ctx, u)
	if err != nil {
		return User{}, false, fmt.Errorf("directory %q: %w", rt.Name, err)
	}
	m.Directory = rt.Name
	return m, found, nil
}

// List implements Lister over every directory in order, naming each user's
// directory. It fails with ErrNotListable if a directory cannot list.
func (r *Router) List(ctx context.Context, pageSize int, fn func([]User) error) error {
	for _, rt := range r.routes {
		l, ok := rt.Dir.(Lister)
		if !ok {
			return fmt.Errorf("directory %q: %w", rt.Name, ErrNotListable)
		}
		err := l.List(ctx, pageSize, func(us []User) error {
			for i := range us {
				us[i].Directory = rt.Name
			}
			return fn(us)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
