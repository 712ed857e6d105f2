package mattermost

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeMM is a Mattermost server speaking the parts of the REST v4 and
// WebSocket APIs the bot uses, with the real wire shapes: Bearer-token
// auth, posts with message-attachment actions whose integration the
// server keeps and POSTs back (with a fresh trigger_id) when a person
// clicks, interactive dialogs opened with a trigger that expires after 3 s
// and is used once, submissions POSTed to the dialog's url with its state,
// and "posted" events whose data.post is a JSON string.
type fakeMM struct {
	t     testing.TB
	srv   *httptest.Server
	token string
	botID string
	// callbacks carries the button and dialog POSTs to the bot.
	callbacks *http.Client

	mu       sync.Mutex
	ids      int
	users    map[string]map[string]any
	teams    map[string][]string
	posts    map[string]*post
	order    []string
	deleted  map[string]bool
	bodies   bytes.Buffer // every request body the bot sent
	dialogs  []openedDialog
	triggers map[string]trigger
	events   map[string]map[string]any // posted events by post ID
	conn     *websocket.Conn
	conns    chan *websocket.Conn
	auths    int
	refuseWS bool
	// deleteOthers is the bot's delete_others_posts permission.
	deleteOthers bool
	now          func() time.Time
}

type trigger struct {
	user, channel string
	at            time.Time
	used          bool
}

type openedDialog struct {
	Trigger string
	URL     string
	Dialog  dialog
	user    string
	channel string
}

const fakeBotToken = "bot-token-0123456789abcdefghij"

func newFakeMM(t testing.TB) *fakeMM {
	f := &fakeMM{t: t, token: fakeBotToken, users: map[string]map[string]any{}, teams: map[string][]string{},
		posts: map[string]*post{}, events: map[string]map[string]any{}, deleted: map[string]bool{}, triggers: map[string]trigger{},
		deleteOthers: true, conns: make(chan *websocket.Conn, 8), callbacks: &http.Client{Timeout: 30 * time.Second}, now: time.Now}
	f.botID = f.newID("b")
	f.users[f.botID] = map[string]any{"id": f.botID, "username": "resetbot", "is_bot": true}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v4/users/me", f.auth(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeJSON(w, f.users[f.botID])
	}))
	mux.HandleFunc("GET /api/v4/users/{id}", f.auth(f.getUser))
	mux.HandleFunc("GET /api/v4/users/email/{email}", f.auth(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		for _, u := range f.users {
			if u["email"] == r.PathValue("email") {
				writeJSON(w, u)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		writeJSON(w, map[string]any{"id": "app.user.missing_account.const", "status_code": 404})
	}))
	mux.HandleFunc("GET /api/v4/users/{id}/{sub}", f.auth(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.PathValue("sub") != "teams" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		var out []map[string]string
		for _, id := range f.teams[r.PathValue("id")] {
			out = append(out, map[string]string{"id": id})
		}
		writeJSON(w, out)
	}))
	mux.HandleFunc("POST /api/v4/channels/direct", f.auth(f.direct))
	mux.HandleFunc("POST /api/v4/posts", f.auth(f.createPost))
	mux.HandleFunc("PUT /api/v4/posts/{id}/patch", f.auth(f.patchPost))
	mux.HandleFunc("DELETE /api/v4/posts/{id}", f.auth(f.deletePost))
	mux.HandleFunc("POST /api/v4/actions/dialogs/open", f.auth(f.openDialog))
	mux.HandleFunc("GET /api/v4/websocket", f.websocket)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.mu.Lock()
		if f.conn != nil {
			_ = f.conn.Close()
		}
		f.mu.Unlock()
		f.srv.Close()
	})
	return f
}

// newID returns a Mattermost-shaped ID (26 lowercase base32 characters).
// The caller holds mu, or the fake is not shared yet.
func (f *fakeMM) newID(prefix string) string {
	f.ids++
	// Padded with letters, so an ID never contains a test's code.
	n := strconv.FormatInt(int64(f.ids), 36)
	return prefix + strings.Repeat("x", 26-len(prefix)-len(n)) + n
}

func (f *fakeMM) auth(h func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			w.WriteHeader(http.StatusUnauthorized)
			writeJSON(w, map[string]any{"id": "api.context.session_expired.app_error", "status_code": 401})
			return
		}
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.bodies.WriteString(r.Method + " " + r.URL.String() + " " + string(body) + "\n")
		h(w, r, body)
	}
}

func (f *fakeMM) getUser(w http.ResponseWriter, r *http.Request, _ []byte) {
	u, ok := f.users[r.PathValue("id")]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		writeJSON(w, map[string]any{"id": "app.user.missing_account.const", "status_code": 404})
		return
	}
	writeJSON(w, u)
}

// dmName is the name Mattermost gives a direct channel: the two user IDs,
// sorted, joined by "__".
func dmName(a, b string) string {
	ids := []string{a, b}
	sort.Strings(ids)
	return ids[0] + "__" + ids[1]
}

// dmID is the fake's ID for the DM between the bot and a user.
func (f *fakeMM) dmID(user string) string { return "d" + user[1:] }

func (f *fakeMM) direct(w http.ResponseWriter, _ *http.Request, body []byte) {
	var ids []string
	if json.Unmarshal(body, &ids) != nil || len(ids) != 2 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	other := ids[1]
	if other == f.botID {
		other = ids[0]
	}
	writeJSON(w, map[string]any{"id": f.dmID(other), "type": "D", "name": dmName(ids[0], ids[1])})
}

func (f *fakeMM) createPost(w http.ResponseWriter, _ *http.Request, body []byte) {
	var p post
	if json.Unmarshal(body, &p) != nil || p.ChannelID == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	p.ID, p.UserID = f.newID("p"), f.botID
	f.posts[p.ID], f.order = &p, append(f.order, p.ID)
	w.WriteHeader(http.StatusCreated)
	writeJSON(w, p)
}

func (f *fakeMM) patchPost(w http.ResponseWriter, r *http.Request, body []byte) {
	p, ok := f.posts[r.PathValue("id")]
	if !ok || f.deleted[p.ID] {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var patch struct {
		Message *string        `json:"message"`
		Props   map[string]any `json:"props"`
	}
	if json.Unmarshal(body, &patch) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if patch.Message != nil {
		p.Message = *patch.Message
	}
	if patch.Props != nil {
		// Stored as the server would: through JSON.
		raw, _ := json.Marshal(patch.Props)
		p.Props = nil
		_ = json.Unmarshal(raw, &p.Props)
	}
	writeJSON(w, p)
}

// deletePost soft-deletes a post: the bot's own, or anyone's when the bot
// was granted delete_others_posts (as the real server checks).
func (f *fakeMM) deletePost(w http.ResponseWriter, r *http.Request, _ []byte) {
	id := r.PathValue("id")
	p, ok := f.posts[id]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if p.UserID != f.botID && !f.deleteOthers {
		w.WriteHeader(http.StatusForbidden)
		writeJSON(w, map[string]any{"id": "api.context.permissions.app_error", "status_code": 403})
		return
	}
	f.deleted[id] = true
	writeJSON(w, map[string]string{"status": "OK"})
}

// openDialog accepts a trigger issued for a click less than 3 s ago, once.
func (f *fakeMM) openDialog(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		TriggerID string `json:"trigger_id"`
		URL       string `json:"url"`
		Dialog    dialog `json:"dialog"`
	}
	if json.Unmarshal(body, &req) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	tr, ok := f.triggers[req.TriggerID]
	if !ok || tr.used || f.now().Sub(tr.at) > 3*time.Second || req.URL == "" || len(req.Dialog.Elements) == 0 {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]any{"id": "interactive_message.decode_trigger_id.expired", "status_code": 400})
		return
	}
	tr.used = true
	f.triggers[req.TriggerID] = tr
	f.dialogs = append(f.dialogs, openedDialog{Trigger: req.TriggerID, URL: req.URL, Dialog: req.Dialog,
		user: tr.user, channel: tr.channel})
	writeJSON(w, map[string]string{"status": "OK"})
}

var upgrader = websocket.Upgrader{}

// websocket accepts the bot's connection: the authentication_challenge
// must carry the bot token, answered {"status":"OK","seq_reply":1}, then
// "hello".
func (f *fakeMM) websocket(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	var ch struct {
		Seq    int64             `json:"seq"`
		Action string            `json:"action"`
		Data   map[string]string `json:"data"`
	}
	if err := c.ReadJSON(&ch); err != nil {
		_ = c.Close()
		return
	}
	f.mu.Lock()
	f.auths++
	refuse := f.refuseWS
	f.mu.Unlock()
	if ch.Action != "authentication_challenge" || ch.Data["token"] != f.token || refuse {
		_ = c.WriteJSON(map[string]any{"status": "FAIL", "seq_reply": ch.Seq,
			"error": map[string]string{"id": "api.web_socket_router.not_authenticated.app_error"}})
		_ = c.Close()
		return
	}
	_ = c.WriteJSON(map[string]any{"event": "hello", "data": map[string]string{"server_version": "10.0.0"}, "seq": 0})
	_ = c.WriteJSON(map[string]any{"status": "OK", "seq_reply": ch.Seq})
	f.mu.Lock()
	f.conn = c
	f.mu.Unlock()
	f.conns <- c
	// Read until the client goes away (pings are answered by the library).
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

// waitConn waits for the bot's next authenticated connection.
func (f *fakeMM) waitConn() {
	f.t.Helper()
	select {
	case <-f.conns:
	case <-time.After(20 * time.Second):
		f.t.Fatal("the bot never connected its websocket")
	}
}

// drop closes the current WebSocket connection (a server restart).
func (f *fakeMM) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		_ = f.conn.Close()
		f.conn = nil
	}
}

// setUser adds a person.
func (f *fakeMM) setUser(id string, u map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u["id"] = id
	f.users[id] = u
}

// say is a person typing text in their DM with the bot: a post, and the
// "posted" event carrying it as a JSON string. It returns the post's ID.
func (f *fakeMM) say(user, text string) string {
	f.t.Helper()
	f.mu.Lock()
	p := post{ID: f.newID("q"), ChannelID: f.dmID(user), UserID: user, Message: text}
	f.posts[p.ID] = &p
	raw, _ := json.Marshal(p)
	ev := map[string]any{"event": "posted", "seq": f.ids,
		"data": map[string]any{"channel_display_name": "@resetbot", "channel_name": dmName(f.botID, user),
			"channel_type": "D", "post": string(raw), "sender_name": "@someone", "team_id": ""},
		"broadcast": map[string]any{"channel_id": p.ChannelID, "team_id": "", "user_id": ""}}
	f.events[p.ID] = ev
	f.mu.Unlock()
	f.sendEvent(ev)
	return p.ID
}

// resend delivers the "posted" event of a post again, unchanged.
func (f *fakeMM) resend(postID string) {
	f.t.Helper()
	f.mu.Lock()
	ev := f.events[postID]
	f.mu.Unlock()
	f.sendEvent(ev)
}

// sendEvent writes a raw event to the bot.
func (f *fakeMM) sendEvent(ev any) {
	f.t.Helper()
	f.mu.Lock()
	c := f.conn
	f.mu.Unlock()
	if c == nil || c.WriteJSON(ev) != nil {
		f.t.Fatal("no websocket connection")
	}
}

// click is a person clicking a button of a bot post: the server POSTs the
// action's integration context to its URL with a new trigger_id. It
// returns the request body it sent and the status and response.
func (f *fakeMM) click(user, postID, actionID string) (req []byte, status int, resp map[string]any) {
	f.t.Helper()
	f.mu.Lock()
	p, ok := f.posts[postID]
	var act *action
	if ok {
		for _, a := range actionsOf(p) {
			if a.ID == actionID {
				act = &a
				break
			}
		}
	}
	f.mu.Unlock()
	if act == nil {
		f.t.Fatalf("no action %s on post %s", actionID, postID)
	}
	return f.clickAction(user, p.ChannelID, postID, *act)
}

// clickAction POSTs the callback of action a as the server would, even
// when the post no longer shows it (an old client, a replay).
func (f *fakeMM) clickAction(user, channel, postID string, a action) (req []byte, status int, resp map[string]any) {
	f.t.Helper()
	f.mu.Lock()
	trg := f.newID("t")
	f.triggers[trg] = trigger{user: user, channel: channel, at: f.now()}
	f.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"user_id": user, "user_name": "someone", "channel_id": channel,
		"channel_name": dmName(f.botID, user), "team_id": "", "team_domain": "", "post_id": postID,
		"trigger_id": trg, "type": "button", "data_source": "", "context": a.Integration.Context})
	status, resp = f.post(a.Integration.URL, body)
	return body, status, resp
}

// submit is a person submitting the dialog opened n-th with values.
func (f *fakeMM) submit(n int, values map[string]string) (req []byte, status int, resp map[string]any) {
	f.t.Helper()
	f.mu.Lock()
	d := f.dialogs[n]
	f.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"type": "dialog_submission", "callback_id": d.Dialog.CallbackID,
		"state": d.Dialog.State, "user_id": d.user, "channel_id": d.channel, "team_id": "",
		"submission": values, "cancelled": false})
	status, resp = f.post(d.URL, body)
	return body, status, resp
}

// post POSTs a callback to the bot as the server does.
func (f *fakeMM) post(url string, body []byte) (int, map[string]any) {
	f.t.Helper()
	r, err := f.callbacks.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	defer r.Body.Close()
	raw, _ := io.ReadAll(r.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return r.StatusCode, out
}

// actionsOf lists the buttons of a post's attachments.
func actionsOf(p *post) []action {
	var out []action
	for _, a := range attachmentsOf(p) {
		out = append(out, a.Actions...)
	}
	return out
}

// attachmentsOf decodes a post's message attachments.
func attachmentsOf(p *post) []attachment {
	raw, _ := json.Marshal(p.Props["attachments"])
	var atts []attachment
	_ = json.Unmarshal(raw, &atts)
	return atts
}

// botPosts returns the bot's posts from the n-th on.
func (f *fakeMM) botPosts(from int) []*post {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*post
	for _, id := range f.order[from:] {
		cp := *f.posts[id]
		out = append(out, &cp)
	}
	return out
}

func (f *fakeMM) postCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.order)
}

func (f *fakeMM) dialogCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.dialogs)
}

func (f *fakeMM) dialogAt(n int) openedDialog {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dialogs[n]
}

func (f *fakeMM) isDeleted(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deleted[id]
}

func (f *fakeMM) allBodies() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies.String()
}

// plain undoes the Markdown escaping of a post's text, for comparing it
// with catalog texts.
func plain(s string) string {
	s = strings.ReplaceAll(s, "\u200b", "")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
