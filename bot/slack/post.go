package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// maxAPIResponse bounds what is read of a chat.postMessage answer.
const maxAPIResponse = 1 << 20

// postMessage is chat.postMessage, written here rather than through
// slack-go's PostMessageContext because every turn's reply goes through it:
// slack-go builds its generic option set and form, then decodes the whole
// echoed message, about a tenth of a Slack turn's CPU under load. The
// request is the one slack-go sends: a form with the token, the channel,
// the text and the blocks as JSON.
func (b *Bot) postMessage(ctx context.Context, channel string, blocks []slack.Block, text string) error {
	bj, err := json.Marshal(blocks)
	if err != nil {
		return fmt.Errorf("slack: blocks: %w", err)
	}
	// The token stays a secret.String until this request is written (it is
	// never logged: errors below name the method and Slack's error code only).
	token := url.QueryEscape(b.o.Config.BotToken.Reveal())
	var body strings.Builder
	body.Grow(len(token) + len(channel) + 3*len(text) + 3*len(bj) + 32)
	body.WriteString("token=")
	body.WriteString(token)
	body.WriteString("&channel=")
	body.WriteString(url.QueryEscape(channel))
	body.WriteString("&text=")
	body.WriteString(url.QueryEscape(text))
	body.WriteString("&blocks=")
	body.WriteString(url.QueryEscape(string(bj)))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.apiBase()+"chat.postMessage", strings.NewReader(body.String()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.o.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return err
	}
	// Errors are slack-go's types, as PostMessageContext returned them, so
	// that post can tell what a retry may cure (postRetry).
	if resp.StatusCode == http.StatusTooManyRequests {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &slack.RateLimitedError{RetryAfter: time.Duration(secs) * time.Second}
	}
	if resp.StatusCode != http.StatusOK {
		return slack.StatusCodeError{Code: resp.StatusCode, Status: resp.Status}
	}
	var out struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("slack: chat.postMessage answer: %w", err)
	}
	if !out.OK {
		return slack.SlackErrorResponse{Err: out.Error}
	}
	return nil
}

// apiBase is the Web API base URL, ending with "/".
func (b *Bot) apiBase() string {
	if b.o.APIURL != "" {
		return b.o.APIURL
	}
	return slack.APIURL
}
