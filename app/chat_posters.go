package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/handoff/escalate"
)

// ChatPosters is where chat adapters register how to post plain text into
// a channel of their platform (the help-desk posting they already use for
// escalation packets, aimed at any channel): alarms and the monthly summary
// post through it. Channels register when they are opened, after Build, so
// posters resolve their adapter at post time.
type ChatPosters struct {
	mu     sync.RWMutex
	byChan map[string]func(target string) escalate.Poster
}

// Set registers how the named channel posts to a target (AddChannel).
func (c *ChatPosters) Set(channel string, f func(target string) escalate.Poster) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byChan == nil {
		c.byChan = map[string]func(string) escalate.Poster{}
	}
	c.byChan[channel] = f
}

// To returns a poster for the destination; posting fails while its adapter
// is not running.
func (c *ChatPosters) To(d config.ChatDestination) escalate.Poster {
	return escalate.PosterFunc(func(ctx context.Context, text string) error {
		c.mu.RLock()
		f := c.byChan[d.Channel]
		c.mu.RUnlock()
		if f == nil {
			return fmt.Errorf("post: the %s channel is not running", d.Channel)
		}
		return f(d.Target).Post(ctx, text)
	})
}
