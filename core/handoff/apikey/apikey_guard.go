package apikey

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Limiter is a per-key fixed-window rate limit on a shared store, so the
// limit holds across replicas.
type Limiter struct {
	st     store.Store
	limit  int64
	window time.Duration
}

// NewLimiter allows perMinute requests per key per minute (at least 1).
func NewLimiter(st store.Store, perMinute int) *Limiter {
	return &Limiter{st: st, limit: int64(max(perMinute, 1)), window: time.Minute}
}

// Allow counts one request of key id and reports whether it is within the limit.
func (l *Limiter) Allow(ctx context.Context, id string) (bool, error) {
	n, err := l.st.Incr(ctx, "handoff:rate:"+id, 1, l.window)
	if err != nil {
		return false, fmt.Errorf("apikey: rate limit: %w", err)
	}
	return n <= l.limit, nil
}

// Guard authenticates and authorises API requests.
type Guard struct {
	Keys    *Set
	Limiter *Limiter
	// Audit receives authn.rejected and regulation.denied events.
	Audit audit.Sink
	Log   *slog.Logger
}

// Refusal reasons written to the audit trail (never sent to the client).
const (
	ReasonKeyInQuery  = "key_in_query"
	ReasonMissingKey  = "missing_key"
	ReasonMalformed   = "malformed_authorization"
	ReasonUnknownKey  = "unknown_key"
	ReasonScope       = "insufficient_scope"
	ReasonRateLimited = "rate_limited"
)

// queryKeyNames are query parameters a client might put a key in. A request
// carrying one is refused even with a valid header: the key has leaked into
// URLs and logs and must be rotated, which the audit event tells operators.
var queryKeyNames = []string{"api_key", "apikey", "key", "token", "access_token", "auth", "authorization", "bearer"}

// Require returns a handler that runs h only for a request carrying a known
// key with scope, within its rate limit. h receives the key.
func (g *Guard) Require(scope Scope, h func(http.ResponseWriter, *http.Request, Key)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if keyInQuery(r) {
			g.refuse(w, r, http.StatusUnauthorized, ReasonKeyInQuery, "")
			return
		}
		presented, reason := bearer(r)
		if reason != "" {
			g.refuse(w, r, http.StatusUnauthorized, reason, "")
			return
		}
		k, ok := g.Keys.Lookup(presented)
		if !ok {
			g.refuse(w, r, http.StatusUnauthorized, ReasonUnknownKey, "")
			return
		}
		if !k.Has(scope) {
			g.refuse(w, r, http.StatusForbidden, ReasonScope, k.ID)
			return
		}
		if g.Limiter != nil {
			ok, err := g.Limiter.Allow(r.Context(), k.ID)
			if err != nil {
				g.log().Error("api rate limit unavailable", "key", k.ID, "err", err)
				WriteError(w, http.StatusServiceUnavailable, "unavailable")
				return
			}
			if !ok {
				g.write(r, audit.Event{Name: audit.NameRegulationDenied, Actor: RequesterPrefix + k.ID,
					Outcome: audit.OutcomeDenied, Reason: ReasonRateLimited})
				w.Header().Set("Retry-After", "60")
				WriteError(w, http.StatusTooManyRequests, "rate_limited")
				return
			}
		}
		h(w, r, k)
	})
}

func keyInQuery(r *http.Request) bool {
	for name := range r.URL.Query() {
		for _, k := range queryKeyNames {
			if strings.EqualFold(name, k) {
				return true
			}
		}
	}
	return false
}

// bearer reads "Authorization: Bearer <key>"; reason is set when absent or malformed.
func bearer(r *http.Request) (secret.String, string) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return secret.String{}, ReasonMissingKey
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if len(vals) != 1 || !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t") {
		return secret.String{}, ReasonMalformed
	}
	return secret.New(tok), ""
}

// refuse answers with no detail and audits the reason (never the key).
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, status int, reason, keyID string) {
	e := audit.Event{Name: audit.NameAuthnRejected, Outcome: audit.OutcomeDenied, Reason: reason,
		Fields: map[string]string{"method": r.Method, "route": r.Pattern}}
	if keyID != "" {
		e.Actor = RequesterPrefix + keyID
	}
	g.write(r, e)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="resetbot"`)
		WriteError(w, status, "unauthorized")
		return
	}
	WriteError(w, status, "forbidden")
}

func (g *Guard) write(r *http.Request, e audit.Event) {
	e.Channel = "api"
	if g.Audit == nil {
		return
	}
	if err := g.Audit.Write(r.Context(), e); err != nil {
		g.log().Error("api audit not recorded", "event", e.Name, "err", err)
	}
}

func (g *Guard) log() *slog.Logger {
	if g.Log == nil {
		return slog.Default()
	}
	return g.Log
}

// WriteError writes the API's error body {"error": code} with status.
func WriteError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "{\"error\":%q}\n", code)
}
