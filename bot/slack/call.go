package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

// maxAPIResponse bounds what is read of a Web API answer: a users.info or
// chat.postMessage answer is a few kilobytes.
const maxAPIResponse = 1 << 20

// apiStatus is the envelope every Web API answer carries.
type apiStatus struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

func (s *apiStatus) status() *apiStatus { return s }

// apiAnswer is a method's answer: the envelope (apiStatus embedded, so
// that its fields decode at the top level) and the fields the bot reads.
type apiAnswer interface{ status() *apiStatus }

// apiBase is the Web API base URL, ending with "/".
func (b *Bot) apiBase() string {
	if b.o.APIURL != "" {
		return b.o.APIURL
	}
	return slack.APIURL
}

// callForm posts a url-encoded form to a Web API method and decodes its
// answer into out. It serves the methods written by hand rather than through
// slack-go (postMessage, usersInfo), which are on every turn's path. The
// form carries the token: it is never put in an error (errors name the
// method, an HTTP status or Slack's error code only).
//
// Errors are slack-go's own types, as its methods return them, so that
// callers can tell what a retry may cure (postRetry): a 429 is a
// *slack.RateLimitedError with its Retry-After, any other non-200 a
// slack.StatusCodeError, an {"ok": false} answer a slack.SlackErrorResponse.
func (b *Bot) callForm(ctx context.Context, method string, form []byte, out apiAnswer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.apiBase()+method, bytes.NewReader(form))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.o.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse+1))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &slack.RateLimitedError{RetryAfter: time.Duration(secs) * time.Second}
	}
	if resp.StatusCode != http.StatusOK {
		return slack.StatusCodeError{Code: resp.StatusCode, Status: resp.Status}
	}
	if len(raw) > maxAPIResponse {
		return fmt.Errorf("slack: %s answer larger than %d bytes", method, maxAPIResponse)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("slack: %s answer: %w", method, err)
	}
	if s := out.status(); !s.OK {
		return slack.SlackErrorResponse{Err: s.Error}
	}
	return nil
}
