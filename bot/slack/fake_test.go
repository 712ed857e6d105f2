package slack

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeSlack is an httptest fake of the Slack Web API and of the Socket Mode
// WebSocket, speaking the real wire format. It records every body it is
// sent, so tests can grep them for secrets.
type fakeSlack struct {
	t   testing.TB
	srv *httptest.Server

	mu     sync.Mutex
	bodies []string
	posts  []posted
	views  []json.RawMessage
	// published are the App Home views (views.publish), updated the
	// modals replaced by views.update.
	published, updated []json.RawMessage
	uploads            int
	deleted            []string
	profiles           map[string]fakeUser
	// anyUser answers users.info for unknown users (load tests).
	anyUser *fakeUser
	wsConns chan *websocket.Conn
	acks    chan map[string]json.RawMessage
	calls   map[string]int
	// members answers conversations.members, groups usergroups.users.list.
	members map[string][]string
	public  map[string]bool // channels that are public (conversations.info)
	groups  map[string][]string
	ts      int
	// failPosts makes the next chat.postMessage calls fail with HTTP 500.
	failPosts int
}

type fakeUser struct {
	Email, Locale, Team string
	Guest               bool
	// Unconfirmed users have is_email_confirmed false.
	Unconfirmed bool
}

// posted is one chat.postMessage, chat.postEphemeral or chat.update; TS
// is the message's timestamp, ThreadTS the thread it replies to.
type posted struct {
	Method, Channel, User, Text string
	TS, ThreadTS                string
	Blocks                      []map[string]any
}

func newFakeSlack(t testing.TB) *fakeSlack {
	f := &fakeSlack{t: t, profiles: map[string]fakeUser{}, wsConns: make(chan *websocket.Conn, 4),
		acks: make(chan map[string]json.RawMessage, 64), calls: map[string]int{},
		members: map[string][]string{}, groups: map[string][]string{}, public: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", f.api)
	mux.HandleFunc("/upload/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.record("upload", string(b))
		f.mu.Lock()
		f.uploads++
		f.mu.Unlock()
		_, _ = w.Write([]byte("OK"))
	})
	mux.HandleFunc("/ws", f.ws)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the API base for slack.OptionAPIURL (with the trailing slash).
func (f *fakeSlack) URL() string { return f.srv.URL + "/api/" }

func (f *fakeSlack) record(method, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, body)
	f.calls[method]++
}

func (f *fakeSlack) reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeSlack) api(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	raw, _ := io.ReadAll(r.Body)
	f.record(method, string(raw))
	// Form posts carry the token in the body, JSON calls in a Bearer header.
	form, _ := url.ParseQuery(string(raw))
	if form.Get("token") == "" && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer x") {
		f.reply(w, map[string]any{"ok": false, "error": "not_authed"})
		return
	}
	switch method {
	case "users.info":
		f.mu.Lock()
		u, ok := f.profiles[form.Get("user")]
		if !ok && f.anyUser != nil {
			u, ok = *f.anyUser, true
		}
		f.mu.Unlock()
		if !ok {
			f.reply(w, map[string]any{"ok": false, "error": "user_not_found"})
			return
		}
		f.reply(w, map[string]any{"ok": true, "user": map[string]any{"id": form.Get("user"), "locale": u.Locale,
			"is_restricted": u.Guest, "team_id": u.Team, "is_email_confirmed": !u.Unconfirmed,
			"profile": map[string]any{"email": u.Email}}})
	case "users.lookupByEmail":
		f.lookupByEmail(w, form.Get("email"))
	case "auth.test":
		f.reply(w, map[string]any{"ok": true, "team_id": testTeam, "user_id": "UBOT", "bot_id": "B1"})
	case "conversations.info":
		f.mu.Lock()
		public := f.public[form.Get("channel")]
		f.mu.Unlock()
		f.reply(w, map[string]any{"ok": true, "channel": map[string]any{"id": form.Get("channel"), "is_private": !public}})
	case "conversations.members":
		f.mu.Lock()
		ids, ok := f.members[form.Get("channel")]
		f.mu.Unlock()
		if !ok {
			f.reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		f.reply(w, map[string]any{"ok": true, "members": ids, "response_metadata": map[string]any{"next_cursor": ""}})
	case "usergroups.users.list":
		f.mu.Lock()
		ids, ok := f.groups[form.Get("usergroup")]
		f.mu.Unlock()
		if !ok {
			f.reply(w, map[string]any{"ok": false, "error": "no_such_subteam"})
			return
		}
		f.reply(w, map[string]any{"ok": true, "users": ids})
	case "conversations.open":
		f.reply(w, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + form.Get("users")}})
	case "chat.postMessage", "chat.postEphemeral", "chat.update":
		f.mu.Lock()
		fail := method == "chat.postMessage" && f.failPosts > 0
		if fail {
			f.failPosts--
		}
		f.mu.Unlock()
		if fail {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		p := posted{Method: method, Channel: form.Get("channel"), User: form.Get("user"), Text: form.Get("text"),
			TS: form.Get("ts"), ThreadTS: form.Get("thread_ts")}
		_ = json.Unmarshal([]byte(form.Get("blocks")), &p.Blocks)
		f.mu.Lock()
		if p.TS == "" {
			f.ts++
			p.TS = "1000." + strconv.Itoa(f.ts)
		}
		f.posts = append(f.posts, p)
		f.mu.Unlock()
		f.reply(w, map[string]any{"ok": true, "channel": p.Channel, "ts": p.TS, "message_ts": p.TS})
	case "views.open", "views.update", "views.publish":
		f.view(w, method, raw)
	case "files.getUploadURLExternal":
		f.reply(w, map[string]any{"ok": true, "upload_url": f.srv.URL + "/upload/F1", "file_id": "F1"})
	case "files.completeUploadExternal":
		f.reply(w, map[string]any{"ok": true, "files": []map[string]any{{"id": "F1", "title": "qr"}}})
	case "files.delete":
		f.mu.Lock()
		f.deleted = append(f.deleted, form.Get("file"))
		f.mu.Unlock()
		f.reply(w, map[string]any{"ok": true})
	case "apps.connections.open":
		f.reply(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/ws"})
	default:
		f.reply(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// ws is the Socket Mode server: hello, then envelopes the test sends; acks
// are collected on f.acks.
func (f *fakeSlack) ws(w http.ResponseWriter, r *http.Request) {
	// The client sends Origin: https://api.slack.com.
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	_ = c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1})
	f.wsConns <- c
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		f.record("ack", string(msg))
		m := map[string]json.RawMessage{}
		if json.Unmarshal(msg, &m) == nil {
			f.acks <- m
		}
	}
}

// lookupByEmail answers users.lookupByEmail from the profiles.
func (f *fakeSlack) lookupByEmail(w http.ResponseWriter, email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, u := range f.profiles {
		if email != "" && strings.EqualFold(u.Email, email) {
			f.reply(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "locale": u.Locale,
				"is_restricted": u.Guest, "team_id": u.Team, "profile": map[string]any{"email": u.Email}}})
			return
		}
	}
	f.reply(w, map[string]any{"ok": false, "error": "users_not_found"})
}

func (f *fakeSlack) setUser(id string, u fakeUser) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.profiles[id] = u
}

func (f *fakeSlack) bodyList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// failNextPosts makes the next n chat.postMessage calls fail.
func (f *fakeSlack) failNextPosts(n int) {
	f.mu.Lock()
	f.failPosts = n
	f.mu.Unlock()
}

func (f *fakeSlack) postCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.posts)
}

func (f *fakeSlack) postsSince(n int) []posted {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]posted(nil), f.posts[n:]...)
}

func (f *fakeSlack) viewCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.views)
}

func (f *fakeSlack) viewAt(i int) json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.views[i]
}

func (f *fakeSlack) callCount(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// waitFor polls cond until it holds or fails the test after 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// view records a views.open (modals opened), views.update (modals replaced)
// or views.publish (App Home) call.
func (f *fakeSlack) view(w http.ResponseWriter, method string, raw []byte) {
	var req struct {
		ViewID string          `json:"view_id"`
		View   json.RawMessage `json:"view"`
	}
	_ = json.Unmarshal(raw, &req)
	f.mu.Lock()
	id := "V1"
	switch method {
	case "views.open":
		f.views = append(f.views, req.View)
	case "views.update":
		f.updated, id = append(f.updated, req.View), req.ViewID
	default:
		f.published, id = append(f.published, req.View), "VH"
	}
	f.mu.Unlock()
	f.reply(w, map[string]any{"ok": true, "view": map[string]any{"id": id}})
}
