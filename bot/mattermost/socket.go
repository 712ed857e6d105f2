package mattermost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocket timing. A connection that answers no ping within pongWait is
// dropped and dialled again.
const (
	authWait     = 10 * time.Second
	pingEvery    = 30 * time.Second
	pongWait     = 75 * time.Second
	maxEvent     = 1 << 20
	backoffFirst = time.Second
	backoffMax   = time.Minute
	// stableAfter is how long a connection must have lived for the next
	// failure to start the backoff again from backoffFirst.
	stableAfter = time.Minute
)

// event is a WebSocket event of the Mattermost server.
type event struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	Seq   int64           `json:"seq"`
	// Status and SeqReply answer our own requests (the authentication
	// challenge).
	Status   string `json:"status"`
	SeqReply int64  `json:"seq_reply"`
}

// errAuth means the server refused the bot token: retrying with the same
// token does not help, but the loop keeps retrying slowly, since a token
// may be re-issued without restarting resetbot.
var errAuth = errors.New("mattermost: websocket authentication refused")

// wsURL turns the server's base URL into its WebSocket endpoint.
func wsURL(base string) string {
	switch {
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	}
	return base + "/api/v4/websocket"
}

// listen keeps a WebSocket open to the server until ctx is done, dialling
// again with exponential backoff and jitter after any failure, and hands
// every event to handle. It returns ctx's error.
func (b *Bot) listen(ctx context.Context, handle func(context.Context, event)) error {
	wait := backoffFirst
	for {
		started := b.now()
		err := b.connectOnce(ctx, handle)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if b.now().Sub(started) > stableAfter {
			wait = backoffFirst
		}
		b.log.Warn("mattermost websocket lost; reconnecting", "err", err, "in", wait.String())
		b.reconnects.Add(1)
		// Full jitter keeps replicas from reconnecting in step after a
		// server restart.
		sleep := wait/2 + rand.N(wait/2+1)
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, backoffMax)
	}
}

// connectOnce dials, authenticates, and reads events until the connection
// fails or ctx is done.
func (b *Bot) connectOnce(ctx context.Context, handle func(context.Context, event)) error {
	d := websocket.Dialer{HandshakeTimeout: authWait, NetDialContext: b.dialer, TLSClientConfig: b.tlsConfig,
		Proxy: http.ProxyFromEnvironment}
	c, resp, err := d.DialContext(ctx, wsURL(b.api.base), nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	c.SetReadLimit(maxEvent)
	if err := b.authenticate(c); err != nil {
		return err
	}
	b.log.Info("mattermost websocket connected")
	b.connected.Add(1)
	_ = c.SetReadDeadline(time.Now().Add(pongWait))
	c.SetPongHandler(func(string) error { return c.SetReadDeadline(time.Now().Add(pongWait)) })
	pinged, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(pinged)
		t := time.NewTicker(pingEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				if c.WriteControl(websocket.PingMessage, nil, time.Now().Add(authWait)) != nil {
					return
				}
			}
		}
	}()
	defer func() { close(quit); _ = c.Close(); <-pinged }()
	for {
		var ev event
		if err := c.ReadJSON(&ev); err != nil {
			return fmt.Errorf("read: %w", err)
		}
		_ = c.SetReadDeadline(time.Now().Add(pongWait))
		if ev.Event != "" {
			handle(ctx, ev)
		}
	}
}

// authenticate sends the authentication_challenge with the bot token and
// waits for its OK (events such as "hello" may come first).
func (b *Bot) authenticate(c *websocket.Conn) error {
	_ = c.SetWriteDeadline(time.Now().Add(authWait))
	if err := c.WriteJSON(map[string]any{"seq": 1, "action": "authentication_challenge",
		"data": map[string]string{"token": b.o.Config.BotToken.Reveal()}}); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	_ = c.SetWriteDeadline(time.Time{})
	_ = c.SetReadDeadline(time.Now().Add(authWait))
	for {
		var ev event
		if err := c.ReadJSON(&ev); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
		if ev.SeqReply != 1 {
			continue
		}
		if ev.Status != "OK" {
			return errAuth
		}
		return nil
	}
}
