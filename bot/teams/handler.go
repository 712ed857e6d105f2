package teams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/dispatch"
)

// MaxActivityBytes bounds an inbound activity. Teams messages are at most
// about 28 KB; a card submit is far smaller.
const MaxActivityBytes = 256 << 10

// Invoke names handled by the bot.
const invokeCardAction = "adaptiveCard/action"

// inbound is a Bot Framework activity as received. It reuses the
// msbotbuilder-go schema and shadows the fields that schema models too
// loosely for us: entities (mentions), channelData (tenant) and value (card
// data, decoded later into submitData).
type inbound struct {
	schema.Activity
	Entities    []entity        `json:"entities,omitempty"`
	ChannelData channelData     `json:"channelData"`
	Value       json.RawMessage `json:"value,omitempty"`
}

type entity struct {
	Type      string                 `json:"type"`
	Mentioned *schema.ChannelAccount `json:"mentioned,omitempty"`
}

type channelData struct {
	Tenant struct {
		ID string `json:"id"`
	} `json:"tenant"`
}

// parseActivity decodes an activity body. It never panics on hostile input
// (FuzzTeamsActivity).
func parseActivity(body []byte) (*inbound, error) {
	var a inbound
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("teams: malformed activity: %w", err)
	}
	if a.Type == "" || a.ServiceURL == "" || a.Conversation.ID == "" {
		return nil, errors.New("teams: activity without type, serviceUrl or conversation")
	}
	return &a, nil
}

// tenant returns the activity's tenant; two different claims are no tenant.
func (a *inbound) tenant() string {
	t, c := a.ChannelData.Tenant.ID, a.Conversation.TenantID
	switch {
	case t == "":
		return c
	case c == "" || strings.EqualFold(c, t):
		return t
	}
	return ""
}

// mentioned reports whether the bot is @mentioned in the activity.
func (a *inbound) mentioned() bool {
	for _, e := range a.Entities {
		if e.Type == "mention" && e.Mentioned != nil && e.Mentioned.ID == a.Recipient.ID {
			return true
		}
	}
	return false
}

// text returns the typed text without <at>mention</at> markup.
func (a *inbound) text() string {
	s := a.Text
	for {
		i := strings.Index(s, "<at>")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "</at>")
		if j < 0 {
			break
		}
		s = s[:i] + s[i+j+len("</at>"):]
	}
	return strings.TrimSpace(s)
}

// personal reports whether the activity comes from a 1:1 chat.
func (a *inbound) personal() bool {
	return a.Conversation.ConversationType == "personal" || (a.Conversation.ConversationType == "" && !a.Conversation.IsGroup)
}

// ServeHTTP is POST /api/messages. Order matters: the bearer token is
// verified before the body is parsed; the parsed activity is then bound to
// the token (serviceurl, endorsement), the serviceUrl allowlist and the
// tenant. Work is acknowledged at once and done on the worker pool, except
// card invokes, whose answer must be in the HTTP body.
func (b *Bot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			// The panic value is not logged: it might quote user input.
			b.log.Error("teams: handler panic", "panic", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if f, ok := b.pool.(interface{ Full() bool }); ok && f.Full() {
		// Cheap 503 before the token check and the parse: nothing could be
		// queued anyway, and the Bot Framework retries.
		w.Header().Set("Retry-After", "2")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	claims, err := b.validator.Authenticate(r.Context(), r.Header.Get("Authorization"))
	if err != nil {
		b.refuse(w, r, err)
		return
	}
	if r.ContentLength > MaxActivityBytes {
		b.rejected(r.Context(), "too_large")
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxActivityBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			b.rejected(r.Context(), "too_large")
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		b.rejected(r.Context(), "unreadable_body")
		http.Error(w, "cannot read request body", http.StatusBadRequest)
		return
	}
	act, err := parseActivity(body)
	if err != nil {
		b.log.Info("teams: malformed activity refused", "bytes", len(body))
		b.rejected(r.Context(), "malformed")
		http.Error(w, "malformed activity", http.StatusBadRequest)
		return
	}
	if err := claims.Check(act.ServiceURL, act.ChannelID); err != nil {
		b.refuse(w, r, err)
		return
	}
	if !b.conn.AllowedServiceURL(act.ServiceURL) {
		b.refuse(w, r, ErrServiceHost)
		return
	}
	if t := act.tenant(); t == "" || !strings.EqualFold(t, b.cfg.TenantID) {
		b.log.Info("teams: activity from another tenant refused", "type", act.Type)
		b.rejected(r.Context(), "foreign_tenant")
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	b.learnServiceURL(r.Context(), act.ServiceURL)
	b.route(w, r, act)
}

// refuse answers an authentication failure: 503 when our key fetch failed
// (the Bot Framework retries), 403 for a valid token bound to something
// else, 401 otherwise. The token itself is never logged.
func (b *Bot) refuse(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusUnauthorized
	switch {
	case errors.Is(err, ErrKeys):
		status = http.StatusServiceUnavailable
		b.log.Warn("teams: signing keys unavailable", "err", err)
	case errors.Is(err, ErrServiceURL), errors.Is(err, ErrEndorsement), errors.Is(err, ErrServiceHost):
		status = http.StatusForbidden
	}
	if status != http.StatusServiceUnavailable {
		b.log.Info("teams: request refused", "status", status, "reason", reason(err))
	}
	b.rejected(r.Context(), reasonCode(err))
	http.Error(w, http.StatusText(status), status)
}

// rejected writes the one authn.rejected audit event of a refused activity:
// a reason code only, never the token or the payload.
func (b *Bot) rejected(ctx context.Context, reason string) {
	if err := b.audit.Write(ctx, audit.Event{Name: audit.NameAuthnRejected, Channel: Channel,
		Outcome: audit.OutcomeDenied, Reason: reason}); err != nil {
		b.log.Error("teams: audit write failed", "err", err)
	}
}

// reasonCode is the audit reason of an authentication failure.
func reasonCode(err error) string {
	switch {
	case errors.Is(err, ErrNoToken):
		return "no_token"
	case errors.Is(err, ErrUnknownKey):
		return "unknown_key"
	case errors.Is(err, ErrKeys):
		return "keys_unavailable"
	case errors.Is(err, ErrServiceURL):
		return "serviceurl_mismatch"
	case errors.Is(err, ErrEndorsement):
		return "channel_not_endorsed"
	case errors.Is(err, ErrServiceHost):
		return "service_host_not_allowed"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token_expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token_not_yet_valid"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong_audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong_issuer"
	}
	return "bad_token"
}

// reason is a short, token-free description for logs.
func reason(err error) string {
	for _, e := range []error{ErrNoToken, ErrUnknownKey, ErrServiceURL, ErrEndorsement, ErrServiceHost} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return err.Error() // jwt/v5 errors name the failed check, never the token
}

// route handles each activity type or politely ignores it.
func (b *Bot) route(w http.ResponseWriter, r *http.Request, act *inbound) {
	if act.From.AadObjectID == "" {
		w.WriteHeader(http.StatusOK) // not a person of the tenant (another bot, a system event)
		return
	}
	switch act.Type {
	case "message":
		switch {
		case act.personal():
			b.answerAfterTurn(w, r, func(ctx context.Context) (bool, pending) {
				if !b.admitted(ctx, act) {
					return true, pending{}
				}
				return b.personalTurn(ctx, act)
			})
		case act.mentioned():
			b.submit(w, func(ctx context.Context) {
				if b.admitted(ctx, act) {
					b.mentionTurn(ctx, act)
				}
			})
		default:
			w.WriteHeader(http.StatusOK)
		}
	case "invoke":
		if act.Name != invokeCardAction || !act.personal() {
			w.WriteHeader(http.StatusOK)
			return
		}
		if b.admittedInvoke(w, r, act) {
			b.invoke(w, r, act)
		}
	case "conversationUpdate":
		if act.personal() && b.botAdded(act) {
			b.submit(w, func(ctx context.Context) {
				if b.admitted(ctx, act) {
					b.greet(ctx, act)
				}
			})
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func (b *Bot) botAdded(act *inbound) bool {
	for _, m := range act.MembersAdded {
		if m.ID == act.Recipient.ID {
			return true
		}
	}
	return false
}

// submit queues work and acknowledges; a full queue answers 503 so the
// platform retries later instead of us buffering without bound.
func (b *Bot) submit(w http.ResponseWriter, job func(ctx context.Context)) {
	if err := b.pool.Submit(dispatch.Job(job)); err != nil {
		b.log.Warn("teams: worker pool refused the activity", "err", err)
		w.Header().Set("Retry-After", "2")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}
