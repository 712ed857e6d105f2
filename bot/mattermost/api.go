package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/resetbot/resetbot/core/secret"
)

// api is a small client of the Mattermost REST API v4: the calls the bot
// makes, nothing more. Every call carries the bot token as a Bearer header
// (never in a URL) and is bounded by ctx.
type api struct {
	base  string // "https://chat.example.com" without a trailing slash
	token secret.String
	hc    *http.Client
}

// maxResponse bounds what the bot reads from a REST response.
const maxResponse = 1 << 20

// statusError is a non-2xx answer of the REST API. It carries the status
// and Mattermost's error id, never the response body (which may echo what
// was sent).
type statusError struct {
	Op     string
	Status int
	ID     string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("mattermost %s: status %d %s", e.Op, e.Status, e.ID)
}

// user is the part of a Mattermost user the bot reads.
type user struct {
	ID            string `json:"id"`
	Username      string `json:"username"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Locale        string `json:"locale"`
	Roles         string `json:"roles"`
	IsBot         bool   `json:"is_bot"`
	DeleteAt      int64  `json:"delete_at"`
}

// guest reports whether the account is a Mattermost guest.
func (u user) guest() bool {
	for _, r := range strings.Fields(u.Roles) {
		if r == "system_guest" {
			return true
		}
	}
	return false
}

// post is a Mattermost post as the bot writes and reads it.
type post struct {
	ID        string         `json:"id,omitempty"`
	ChannelID string         `json:"channel_id,omitempty"`
	UserID    string         `json:"user_id,omitempty"`
	Message   string         `json:"message"`
	Type      string         `json:"type,omitempty"`
	RootID    string         `json:"root_id,omitempty"`
	Props     map[string]any `json:"props,omitempty"`
}

// attachment is a message attachment; its actions are the buttons.
type attachment struct {
	Text    string   `json:"text,omitempty"`
	Actions []action `json:"actions,omitempty"`
}

// action is an interactive button. The Mattermost server keeps Integration
// to itself and POSTs its Context to its URL when the button is clicked.
type action struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Type        string      `json:"type"`
	Style       string      `json:"style,omitempty"`
	Integration integration `json:"integration"`
}

type integration struct {
	URL     string         `json:"url"`
	Context map[string]any `json:"context"`
}

// dialog is an interactive dialog (POST /api/v4/actions/dialogs/open).
type dialog struct {
	CallbackID       string    `json:"callback_id"`
	Title            string    `json:"title"`
	IntroductionText string    `json:"introduction_text,omitempty"`
	Elements         []element `json:"elements"`
	SubmitLabel      string    `json:"submit_label,omitempty"`
	NotifyOnCancel   bool      `json:"notify_on_cancel"`
	State            string    `json:"state"`
}

// element is one dialog field; subtype "password" masks what is typed.
type element struct {
	DisplayName string `json:"display_name"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	SubType     string `json:"subtype,omitempty"`
	MinLength   int    `json:"min_length,omitempty"`
	MaxLength   int    `json:"max_length,omitempty"`
	HelpText    string `json:"help_text,omitempty"`
	Optional    bool   `json:"optional"`
}

func (a *api) do(ctx context.Context, op, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("mattermost %s: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return fmt.Errorf("mattermost %s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token.Reveal())
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("mattermost %s: %w", op, scrub(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("mattermost %s: reading: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(raw, &e)
		return &statusError{Op: op, Status: resp.StatusCode, ID: e.ID}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("mattermost %s: decoding: %w", op, err)
	}
	return nil
}

// scrub drops the URL from a transport error (it names the server, which
// is fine, but keeps error texts short and uniform).
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (a *api) me(ctx context.Context) (user, error) {
	var u user
	err := a.do(ctx, "users.me", http.MethodGet, "/api/v4/users/me", nil, &u)
	return u, err
}

func (a *api) user(ctx context.Context, id string) (user, error) {
	var u user
	err := a.do(ctx, "users.get", http.MethodGet, "/api/v4/users/"+url.PathEscape(id), nil, &u)
	return u, err
}

// teams returns the IDs of the teams the user belongs to.
func (a *api) teams(ctx context.Context, userID string) ([]string, error) {
	var ts []struct {
		ID string `json:"id"`
	}
	if err := a.do(ctx, "users.teams", http.MethodGet, "/api/v4/users/"+url.PathEscape(userID)+"/teams", nil, &ts); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ts))
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids, nil
}

// direct returns the direct channel between the bot and a user, creating
// it when needed (the call is idempotent on the server).
func (a *api) direct(ctx context.Context, bot, other string) (string, error) {
	var ch struct {
		ID string `json:"id"`
	}
	err := a.do(ctx, "channels.direct", http.MethodPost, "/api/v4/channels/direct", []string{bot, other}, &ch)
	return ch.ID, err
}

func (a *api) createPost(ctx context.Context, p post) (post, error) {
	var out post
	err := a.do(ctx, "posts.create", http.MethodPost, "/api/v4/posts", p, &out)
	return out, err
}

// patchPost replaces a post's props, keeping its message (a clicked
// prompt's buttons are replaced by the chosen label).
func (a *api) patchPost(ctx context.Context, id string, props map[string]any) error {
	body := map[string]any{"props": props}
	return a.do(ctx, "posts.patch", http.MethodPut, "/api/v4/posts/"+url.PathEscape(id)+"/patch", body, nil)
}

func (a *api) deletePost(ctx context.Context, id string) error {
	return a.do(ctx, "posts.delete", http.MethodDelete, "/api/v4/posts/"+url.PathEscape(id), nil, nil)
}

// openDialog opens an interactive dialog with the trigger of a click; its
// submission is POSTed to callback.
func (a *api) openDialog(ctx context.Context, trigger, callback string, d dialog) error {
	body := map[string]any{"trigger_id": trigger, "url": callback, "dialog": d}
	return a.do(ctx, "dialogs.open", http.MethodPost, "/api/v4/actions/dialogs/open", body, nil)
}
