package procrig

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// FakeSlack is a minimal fake of the Slack Web API on loopback: users.info
// answers every user as an employee of SlackTeam, chat.postMessage and the
// other write methods answer ok and are recorded per channel, so a driver
// can wait for the reply to its event.
type FakeSlack struct {
	srv *httptest.Server

	mu      sync.Mutex
	posts   map[string][]Post // by channel
	total   int
	waiters map[string][]chan Post
}

// Post is one message the bot posted (or updated).
type Post struct {
	Method, Channel, Text string
	At                    time.Time
}

// NewFakeSlack starts the fake and stops it in t.Cleanup.
func NewFakeSlack(t testing.TB) *FakeSlack {
	f := &FakeSlack{posts: map[string][]Post{}, waiters: map[string][]chan Post{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// APIURL is the base the configuration points channels.slack.api_url at.
func (f *FakeSlack) APIURL() string { return f.srv.URL + "/api/" }

func (f *FakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	w.Header().Set("Content-Type", "application/json")
	vals, _ := url.ParseQuery(string(raw))
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		for k, v := range m {
			if s, ok := v.(string); ok {
				vals.Set(k, s)
			}
		}
	}
	switch method {
	case "users.info":
		u := vals.Get("user")
		_, _ = io.WriteString(w, `{"ok":true,"user":{"id":"`+u+`","team_id":"`+SlackTeam+
			`","locale":"en-US","profile":{"email":"`+strings.ToLower(u)+`@example.org"}}}`)
	case "users.lookupByEmail":
		// Every address of the directory is a person of SlackTeam, whose
		// ID is derived from the local part (alice.martin -> UALICEMARTIN).
		id := SlackUserFor(vals.Get("email"))
		_, _ = io.WriteString(w, `{"ok":true,"user":{"id":"`+id+`","team_id":"`+SlackTeam+
			`","locale":"en-US","tz":"Europe/Paris","profile":{"email":"`+vals.Get("email")+`"}}}`)
	case "auth.test":
		_, _ = io.WriteString(w, `{"ok":true,"team_id":"`+SlackTeam+`","user_id":"UBOT","bot_id":"B1"}`)
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		f.record(Post{Method: method, Channel: vals.Get("channel"), Text: vals.Get("text"), At: time.Now()})
		_, _ = io.WriteString(w, `{"ok":true,"channel":"`+vals.Get("channel")+`","ts":"1.2"}`)
	case "conversations.open":
		_, _ = io.WriteString(w, `{"ok":true,"channel":{"id":"D`+vals.Get("users")+`"}}`)
	default:
		_, _ = io.WriteString(w, `{"ok":true}`)
	}
}

func (f *FakeSlack) record(p Post) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts[p.Channel] = append(f.posts[p.Channel], p)
	f.total++
	ws := f.waiters[p.Channel]
	if len(ws) > 0 {
		ws[0] <- p
		f.waiters[p.Channel] = ws[1:]
		if len(ws) == 1 {
			delete(f.waiters, p.Channel)
		}
	}
}

// Expect registers interest in the next post to channel; the returned
// channel receives it. Register before sending the event.
func (f *FakeSlack) Expect(channel string) <-chan Post {
	ch := make(chan Post, 1)
	f.mu.Lock()
	f.waiters[channel] = append(f.waiters[channel], ch)
	f.mu.Unlock()
	return ch
}

// Cancel drops the oldest registered waiter of channel (after a timeout or
// a refused event) so that a later reply is not delivered to it.
func (f *FakeSlack) Cancel(channel string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ws := f.waiters[channel]; len(ws) > 0 {
		f.waiters[channel] = ws[1:]
	}
}

// Posts returns the posts to channel, in order.
func (f *FakeSlack) Posts(channel string) []Post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Post(nil), f.posts[channel]...)
}

// Total is the number of posts so far.
func (f *FakeSlack) Total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// SlackUserFor is the Slack user ID users.lookupByEmail answers for email;
// the bot's DM with them is "D" + that ID.
func SlackUserFor(email string) string {
	local, _, _ := strings.Cut(strings.ToUpper(email), "@")
	return "U" + strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, local)
}
