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
	forget  bool              // keep no history (ForgetPosts)
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

// ForgetPosts makes the fake keep no history from now on: Posts returns
// nothing new, while Expect and Total still work. A load test calls it: a
// history of every post grows the generator's heap, and its collector's
// work, through the run, slowing the fake's answers to whichever target
// runs later.
func (f *FakeSlack) ForgetPosts() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forget = true
}

func (f *FakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	w.Header().Set("Content-Type", "application/json")
	vals := formValues(string(raw))
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		vals = func(key string) string {
			s, _ := m[key].(string)
			return s
		}
	}
	switch method {
	case "users.info":
		u := vals("user")
		_, _ = io.WriteString(w, `{"ok":true,"user":{"id":"`+u+`","team_id":"`+SlackTeam+
			`","locale":"en-US","profile":{"email":"`+strings.ToLower(u)+`@example.org"}}}`)
	case "users.lookupByEmail":
		// Every address of the directory is a person of SlackTeam, whose
		// ID is derived from the local part (alice.martin -> UALICEMARTIN).
		id := SlackUserFor(vals("email"))
		_, _ = io.WriteString(w, `{"ok":true,"user":{"id":"`+id+`","team_id":"`+SlackTeam+
			`","locale":"en-US","tz":"Europe/Paris","profile":{"email":"`+vals("email")+`"}}}`)
	case "auth.test":
		_, _ = io.WriteString(w, `{"ok":true,"team_id":"`+SlackTeam+`","user_id":"UBOT","bot_id":"B1"}`)
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		f.record(Post{Method: method, Channel: vals("channel"), Text: vals("text"), At: time.Now()})
		_, _ = io.WriteString(w, `{"ok":true,"channel":"`+vals("channel")+`","ts":"1.2"}`)
	case "conversations.open":
		_, _ = io.WriteString(w, `{"ok":true,"channel":{"id":"D`+vals("users")+`"}}`)
	default:
		_, _ = io.WriteString(w, `{"ok":true}`)
	}
}

// formValues returns a lookup of a url-encoded form that unescapes only the
// fields asked for: the fake reads a channel or a user, and decoding every
// field of a reply (its blocks are most of the bytes) was most of its work
// under load, on the core the load generator shares.
func formValues(form string) func(key string) string {
	return func(key string) string {
		for rest := form; rest != ""; {
			var kv string
			kv, rest, _ = strings.Cut(rest, "&")
			if k, v, _ := strings.Cut(kv, "="); k == key {
				s, _ := url.QueryUnescape(v)
				return s
			}
		}
		return ""
	}
}

func (f *FakeSlack) record(p Post) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.forget {
		f.posts[p.Channel] = append(f.posts[p.Channel], p)
	}
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
