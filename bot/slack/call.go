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
//
// When the Bot built its HTTP client itself, the call goes over its own
// kept-alive connections instead (apiConns, which says how that differs);
// a client given in Options, such as a test's, sees every call.
func (b *Bot) callForm(ctx context.Context, method string, form []byte, out apiAnswer) error {
	if b.direct(method) {
		return b.conns.call(ctx, method, form, out)
	}
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
	return decodeAnswer(method, resp.StatusCode, resp.Status, resp.Header.Get("Retry-After"), raw, out)
}

// direct says whether callForm sends method over the Bot's own connections
// (apiConns) rather than its HTTP client. The form is then copied into the
// request: nothing holds it once callForm returns. Through the client it
// may still be held (a request's GetBody, a transport's retry).
func (b *Bot) direct(method string) bool {
	return b.conns != nil && method != "" && plainToken(method, "._-")
}

// okAnswer says whether a Web API answer starts with "ok": true, as Slack
// writes every successful one. Any other beginning is decoded in full.
func okAnswer(raw []byte) bool {
	rest, ok := bytes.CutPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte(`{"ok":true`))
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t\r\n")
	return len(rest) > 0 && (rest[0] == ',' || rest[0] == '}')
}

// decodeAnswer is callForm's reading of an answer: its status code and
// text, its Retry-After header and the first maxAPIResponse+1 bytes of its
// body.
func decodeAnswer(method string, code int, status, retryAfter string, raw []byte, out apiAnswer) error {
	if code == http.StatusTooManyRequests {
		secs, _ := strconv.Atoi(retryAfter)
		return &slack.RateLimitedError{RetryAfter: time.Duration(secs) * time.Second}
	}
	if code != http.StatusOK {
		return slack.StatusCodeError{Code: code, Status: status}
	}
	if len(raw) > maxAPIResponse {
		return fmt.Errorf("slack: %s answer larger than %d bytes", method, maxAPIResponse)
	}
	if st, ok := out.(*apiStatus); ok && okAnswer(raw) {
		// The caller reads nothing but the envelope (chat.postMessage):
		// an answer that starts by saying ok is not decoded. Decoding it
		// was a few percent of a turn's CPU, for one bit.
		*st = apiStatus{OK: true}
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("slack: %s answer: %w", method, err)
	}
	if s := out.status(); !s.OK {
		return slack.SlackErrorResponse{Err: s.Error}
	}
	return nil
}
