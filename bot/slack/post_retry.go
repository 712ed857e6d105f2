package slack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/slack-go/slack"
)

// Retries of chat.postMessage within the caller's budget.
const (
	postTries     = 3
	postRetryWait = 150 * time.Millisecond
	// postRetryMax caps the wait a rate limit may ask for: a longer one is
	// not waited out inside a turn's budget.
	postRetryMax = time.Second
)

// post sends one message to the job's channel (the user's DM). Failures
// Slack or the network may cure by themselves (a rate limit, a 5xx, a
// dropped connection) are retried while ctx allows; the error is returned,
// so that a reply that could not be shown is never taken as shown.
func (b *Bot) post(ctx context.Context, j job, blocks []slack.Block, text string) error {
	ch, err := b.channel(ctx, j)
	if err != nil {
		b.log.Warn("slack DM unavailable", "err", err)
		return fmt.Errorf("slack: open DM: %w", err)
	}
	wait := postRetryWait
	for try := 1; ; try++ {
		err = b.postMessage(ctx, ch, blocks, text)
		if err == nil {
			return nil
		}
		d, again := postRetry(err, wait)
		if !again || try == postTries || !pause(ctx, d) {
			b.log.Warn("slack chat.postMessage failed", "tries", try, "err", err)
			return fmt.Errorf("slack: chat.postMessage: %w", err)
		}
		wait *= 2
	}
}

// postRetry says whether a failed post may succeed when tried again, and
// after how long.
func postRetry(err error, wait time.Duration) (time.Duration, bool) {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	var ne net.Error
	var ue *url.Error
	switch {
	case errors.As(err, &rl):
		return rl.RetryAfter, rl.RetryAfter <= postRetryMax
	case errors.As(err, &sc):
		return wait, sc.Code >= 500 || sc.Code == 408
	case errors.As(err, &se):
		switch se.Err {
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited":
			return wait, true
		}
		return 0, false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 0, false
	case errors.As(err, &ne), errors.As(err, &ue):
		return wait, true
	}
	return 0, false
}

// pause waits d unless ctx ends first or its deadline comes before d is
// over; it reports whether there is time for another try.
func pause(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
