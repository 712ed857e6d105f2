package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/resetbot/resetbot/core/secret"
)

// Outbound failures.
var (
	// ErrServiceHost means a serviceUrl is not on the allowlist; nothing was sent.
	ErrServiceHost = errors.New("teams: serviceUrl host not allowed")
	// ErrTokenEndpoint means no access token could be obtained.
	ErrTokenEndpoint = errors.New("teams: token endpoint failed")
	// ErrConnector means the Bot Connector refused or failed a call.
	ErrConnector = errors.New("teams: connector call failed")
)

const maxConnectorBody = 1 << 20

// ConnectorOptions configure a Connector.
type ConnectorOptions struct {
	// TokenURL is the tenant-specific client-credentials endpoint.
	TokenURL     string
	ClientID     string
	ClientSecret secret.String
	Scope        string
	// AllowedHosts are the host suffixes a serviceUrl may have.
	AllowedHosts []string
	// HTTP makes every call; it must have a timeout.
	HTTP  *http.Client
	Clock func() time.Time
	// Attempts bounds tries per call (token and connector), default 3.
	Attempts int
	// Sleep waits between attempts; tests replace it.
	Sleep func(ctx context.Context, d time.Duration)

	// allowHTTP lets tests use a plain-HTTP fake connector. Never set in production.
	allowHTTP bool
}

// Connector calls the Bot Connector REST API with tokens from the tenant's
// token endpoint. It is safe for concurrent use; tokens are cached and
// refreshed before they expire, one fetch at a time.
type Connector struct {
	opt ConnectorOptions

	mu      sync.Mutex
	token   secret.String
	expires time.Time
}

// Outgoing is an activity the bot sends. It is smaller than schema.Activity,
// whose zero-valued timestamps would be sent as year-1 dates.
type Outgoing struct {
	Type         string                      `json:"type"`
	ID           string                      `json:"id,omitempty"`
	Text         string                      `json:"text,omitempty"`
	TextFormat   string                      `json:"textFormat,omitempty"`
	Locale       string                      `json:"locale,omitempty"`
	From         *schema.ChannelAccount      `json:"from,omitempty"`
	Recipient    *schema.ChannelAccount      `json:"recipient,omitempty"`
	Conversation *schema.ConversationAccount `json:"conversation,omitempty"`
	ReplyToID    string                      `json:"replyToId,omitempty"`
	Attachments  []schema.Attachment         `json:"attachments,omitempty"`
}

// Member is a conversation member as Teams describes it.
type Member struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	AadObjectID       string `json:"aadObjectId"`
	Email             string `json:"email"`
	UserPrincipalName string `json:"userPrincipalName"`
	TenantID          string `json:"tenantId"`
	// UserRole is "user", "guest" or "anonymous" (TeamsChannelAccount).
	UserRole string `json:"userRole"`
}

// NewConnector returns a connector client.
func NewConnector(opt ConnectorOptions) (*Connector, error) {
	if opt.TokenURL == "" || opt.ClientID == "" || opt.ClientSecret.Empty() {
		return nil, errors.New("teams: token URL, app ID and app password are required")
	}
	if len(opt.AllowedHosts) == 0 {
		return nil, errors.New("teams: at least one allowed serviceUrl host is required")
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Attempts <= 0 {
		opt.Attempts = 3
	}
	if opt.Sleep == nil {
		opt.Sleep = sleepCtx
	}
	return &Connector{opt: opt}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// AllowedServiceURL reports whether the bot may send its token to serviceURL.
func (c *Connector) AllowedServiceURL(serviceURL string) bool {
	u, err := url.Parse(serviceURL)
	if err != nil || u.User != nil || (u.Scheme != "https" && !(c.opt.allowHTTP && u.Scheme == "http")) {
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, s := range c.opt.AllowedHosts {
		s = strings.ToLower(strings.TrimPrefix(s, "."))
		if h == s || strings.HasSuffix(h, "."+s) {
			return true
		}
	}
	return false
}

// Send posts an activity to a conversation and returns the new activity's ID.
func (c *Connector) Send(ctx context.Context, serviceURL, conversationID string, a *Outgoing) (string, error) {
	var res schema.ResourceResponse
	err := c.call(ctx, http.MethodPost, serviceURL, "v3/conversations/"+url.PathEscape(conversationID)+"/activities", a, &res)
	return res.ID, err
}

// Update replaces an activity the bot sent earlier (a card after its submit).
func (c *Connector) Update(ctx context.Context, serviceURL, conversationID, activityID string, a *Outgoing) error {
	a.ID = activityID
	return c.call(ctx, http.MethodPut, serviceURL,
		"v3/conversations/"+url.PathEscape(conversationID)+"/activities/"+url.PathEscape(activityID), a, nil)
}

// CreatePersonal opens (or finds) the 1:1 conversation between the bot and a
// user, for a proactive message, and returns its ID.
func (c *Connector) CreatePersonal(ctx context.Context, serviceURL, botID, userID, tenantID string) (string, error) {
	p := map[string]any{
		"isGroup":     false,
		"bot":         map[string]string{"id": botID},
		"members":     []map[string]string{{"id": userID}},
		"tenantId":    tenantID,
		"channelData": map[string]any{"tenant": map[string]string{"id": tenantID}},
	}
	var res schema.ConversationResourceResponse
	if err := c.call(ctx, http.MethodPost, serviceURL, "v3/conversations", p, &res); err != nil {
		return "", err
	}
	if res.ID == "" {
		return "", fmt.Errorf("%w: create conversation returned no ID", ErrConnector)
	}
	return res.ID, nil
}

// Member looks up one member of a conversation (for the UPN and email hints).
func (c *Connector) Member(ctx context.Context, serviceURL, conversationID, memberID string) (Member, error) {
	var m Member
	err := c.call(ctx, http.MethodGet, serviceURL,
		"v3/conversations/"+url.PathEscape(conversationID)+"/members/"+url.PathEscape(memberID), nil, &m)
	return m, err
}

// call makes one connector request with bounded retries: once more with a
// fresh token after a 401, and with backoff after 429 or 5xx.
func (c *Connector) call(ctx context.Context, method, serviceURL, path string, body, out any) error {
	// The bot's token goes only to allowlisted hosts (SSRF; a forged
	// serviceUrl could otherwise collect it).
	if !c.AllowedServiceURL(serviceURL) {
		return ErrServiceHost
	}
	target := strings.TrimRight(serviceURL, "/") + "/" + path
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("teams: encode %s: %w", path, err)
		}
	}
	var last error
	for attempt := range c.opt.Attempts {
		if attempt > 0 {
			c.opt.Sleep(ctx, backoff(attempt))
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrConnector, err)
		}
		tok, err := c.Token(ctx)
		if err != nil {
			return err
		}
		status, err := c.do(ctx, method, target, tok, payload, out)
		switch {
		case err == nil:
			return nil
		case status == http.StatusUnauthorized:
			c.invalidate(tok)
		case status != 0 && status != http.StatusTooManyRequests && status < 500:
			return err // 400, 403, 404: retrying would not help
		}
		last = err
	}
	return last
}

func (c *Connector) do(ctx context.Context, method, target string, tok secret.String, payload []byte, out any) (int, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrConnector, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	if payload != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := c.opt.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %s: %w", ErrConnector, method, redactURL(target), err)
	}
	defer resp.Body.Close()
	lim := io.LimitReader(resp.Body, maxConnectorBody)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, lim)
		return resp.StatusCode, fmt.Errorf("%w: %s %s: HTTP %d", ErrConnector, method, redactURL(target), resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(lim).Decode(out); err != nil && !errors.Is(err, io.EOF) {
			return resp.StatusCode, fmt.Errorf("%w: decode reply: %w", ErrConnector, err)
		}
	}
	return resp.StatusCode, nil
}

// redactURL keeps the host and the first path segments: conversation IDs are
// identifiers, not secrets, but they are long and add nothing to a log line.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(url)"
	}
	return u.Scheme + "://" + u.Host + "/v3/…"
}

func backoff(attempt int) time.Duration {
	return time.Duration(250<<min(attempt-1, 4)) * time.Millisecond
}

// Token returns a cached access token, fetching a new one when it expires
// within five minutes. Fetches are serialised: many concurrent replies cause
// one token request, not many.
func (c *Connector) Token(ctx context.Context) (secret.String, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.token.Empty() && c.opt.Clock().Before(c.expires) {
		return c.token, nil
	}
	var last error
	for attempt := range c.opt.Attempts {
		if attempt > 0 {
			c.opt.Sleep(ctx, backoff(attempt))
		}
		if err := ctx.Err(); err != nil {
			return secret.String{}, fmt.Errorf("%w: %w", ErrTokenEndpoint, err)
		}
		tok, ttl, retry, err := c.fetchToken(ctx)
		if err == nil {
			c.token = tok
			c.expires = c.opt.Clock().Add(refreshAt(ttl))
			return tok, nil
		}
		last = err
		if !retry {
			break
		}
	}
	return secret.String{}, last
}

// refreshAt renews five minutes before expiry, or at half-life for short tokens.
func refreshAt(ttl time.Duration) time.Duration {
	if ttl > 10*time.Minute {
		return ttl - 5*time.Minute
	}
	return ttl / 2
}

func (c *Connector) invalidate(tok secret.String) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token.Equal(tok) {
		c.token = secret.String{}
	}
}

func (c *Connector) fetchToken(ctx context.Context) (secret.String, time.Duration, bool, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.opt.ClientID},
		"client_secret": {c.opt.ClientSecret.Reveal()},
		"scope":         {c.opt.Scope},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opt.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return secret.String{}, 0, false, fmt.Errorf("%w: %w", ErrTokenEndpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.opt.HTTP.Do(req)
	if err != nil {
		// The transport error names the URL, which holds only the tenant ID.
		return secret.String{}, 0, true, fmt.Errorf("%w: %w", ErrTokenEndpoint, err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken secret.String `json:"access_token"`
		ExpiresIn   json.Number   `json:"expires_in"`
		Error       string        `json:"error"`
	}
	derr := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		// AAD's "error" is a code such as invalid_client; its description is
		// not logged (it may quote request parameters).
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return secret.String{}, 0, retry, fmt.Errorf("%w: HTTP %d %s", ErrTokenEndpoint, resp.StatusCode, safeCode(body.Error))
	}
	secs, _ := strconv.Atoi(body.ExpiresIn.String())
	if derr != nil || body.AccessToken.Empty() || secs <= 0 {
		return secret.String{}, 0, true, fmt.Errorf("%w: response without a usable access_token", ErrTokenEndpoint)
	}
	return body.AccessToken, time.Duration(secs) * time.Second, false, nil
}

func safeCode(s string) string {
	if len(s) > 40 || strings.ContainsFunc(s, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z') }) {
		return ""
	}
	return s
}
