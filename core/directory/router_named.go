package directory

// Named returns the directory configured under name, as the router holds
// it (background jobs such as the lockout watcher address one directory).
func (r *Router) Named(name string) (Directory, bool) {
	i, ok := r.byName[name]
	if !ok {
		return nil, false
	}
	return r.routes[i].Dir, true
}

// Names returns the configured directory names in routing order.
func (r *Router) Names() []string {
	out := make([]string, len(r.routes))
	for i, rt := range r.routes {
		out[i] = rt.Name
	}
	return out
}
