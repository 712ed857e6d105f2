package alarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/audit"
)

// Poster posts plain text into a chat channel (the chat adapters'
// help-desk posting, escalate.Poster).
type Poster interface {
	Post(ctx context.Context, text string) error
}

// ErrQueueFull means a chat alert was dropped because the queue was full.
var ErrQueueFull = errors.New("alarm: chat queue full")

// chatTimeout bounds one post.
const chatTimeout = 10 * time.Second

// Chat posts each alert as a short message to a chat channel through a
// bounded queue, so the audit write that raised it never waits on the
// network. An alert is one incident, so a channel gets one message per
// incident. The full queue drops (ErrQueueFull, logged at warn); a failed
// post is logged and not retried (the alert is in the audit trail and
// the log either way).
type Chat struct {
	name string
	p    Poster
	log  *slog.Logger
	ch   chan Alert
	done chan struct{}
	once sync.Once
}

// NewChat starts a Chat notifier named name (for logs) with a queue of
// size alerts. Close stops it.
func NewChat(name string, p Poster, size int, log *slog.Logger) *Chat {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Chat{name: name, p: p, log: log, ch: make(chan Alert, max(size, 1)), done: make(chan struct{})}
	go c.run()
	return c
}

// Notify implements Notifier.
func (c *Chat) Notify(_ context.Context, a Alert) error {
	select {
	case c.ch <- a:
		return nil
	default:
		c.log.Warn("alarm: chat alert dropped, queue full", "destination", c.name, "rule", a.Rule)
		return ErrQueueFull
	}
}

func (c *Chat) run() {
	defer close(c.done)
	for a := range c.ch {
		ctx, cancel := context.WithTimeout(context.Background(), chatTimeout)
		if err := c.p.Post(ctx, Render(a)); err != nil {
			c.log.Warn("alarm: chat alert not posted", "destination", c.name, "rule", a.Rule, "err", err)
		}
		cancel()
	}
}

// Close posts what is queued and stops.
func (c *Chat) Close() error {
	c.once.Do(func() { close(c.ch) })
	<-c.done
	return nil
}

// ruleText says what each rule means, for people.
var ruleText = map[string]string{
	RuleIdentityManyAccounts: "one chat identity or caller number tried several accounts",
	RuleFailuresManyAccounts: "failed verifications across many accounts",
	RuleSendBudget:           "a code send budget is exhausted",
	RuleCodeReplay:           "an authenticator code was presented twice",
	RuleNotMe:                "a user answered \"Not me\" to a notice about their account",
	RuleLockoutSpray:         "many accounts were locked out within minutes (password spraying?)",
	RuleLockoutSpraySource:   "many lockouts from one source",
}

// Render returns the chat text of an alert. Phone numbers in the subject
// are masked (a chat channel is read more widely than the security
// webhook); the reference IDs lead to the full audit records.
func Render(a Alert) string {
	var b strings.Builder
	what := ruleText[a.Rule]
	if what == "" {
		what = a.Rule
	}
	fmt.Fprintf(&b, "resetbot abuse alarm: %s (%s)\n", what, a.Rule)
	fmt.Fprintf(&b, "Subject: %s\n", maskSubject(a.Subject))
	fmt.Fprintf(&b, "Count: %d", a.Count)
	if a.Channel != "" {
		fmt.Fprintf(&b, " on %s", a.Channel)
	}
	fmt.Fprintf(&b, ", %s to %s UTC\n", a.First.UTC().Format("2006-01-02 15:04:05"), a.Time.UTC().Format("15:04:05"))
	if len(a.Refs) > 0 {
		fmt.Fprintf(&b, "Reference IDs: %s\n", strings.Join(a.Refs, ", "))
	}
	b.WriteString("One message per incident; see the audit trail for the events.")
	return b.String()
}

// maskSubject masks a phone number, bare or after a channel prefix.
func maskSubject(s string) string {
	prefix, rest, ok := strings.Cut(s, ":")
	if !ok {
		prefix, rest = "", s
	} else {
		prefix += ":"
	}
	if strings.HasPrefix(rest, "+") {
		return prefix + audit.MaskPhone(rest)
	}
	return s
}
