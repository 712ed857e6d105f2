package server

import (
	"net/http"
	"time"
)

// Transport is an HTTP transport for outbound API calls made by conns
// workers at once (Slack Web API, the Bot Framework connector). It keeps as
// many idle connections per host as there are workers, plus headroom for
// calls made outside the workers: with the default transport's 2 idle
// connections per host, a busy replica paid a new TLS handshake on every
// third reply.
func Transport(conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = conns + 4
	t.MaxIdleConns = 2 * (conns + 4)
	t.IdleConnTimeout = 90 * time.Second
	return t
}
