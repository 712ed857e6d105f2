package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/enrollpage"
)

var transports = []struct {
	name   string
	socket bool
}{{"events_api", false}, {"socket_mode", true}}

// TestResetModals: the Slack rendering of a reset (the conversation itself
// is the conformance suite's): replies only in the DM, the clicked message
// updated in place, a code typed in a modal (first wrong: refused inside
// the modal) or in the DM, then the password modal with policy refusals and
// a mismatch shown inside the modal.
func TestResetModals(t *testing.T) {
	e := newEnv(t, false)
	posts := e.dm("U1", "hi, I forgot my password")
	if strings.Contains(texts(posts), e.msg("identify.prompt")) {
		posts = e.dm("U1", "amartin")
	}
	// The authenticator is asked at once, the other methods beside it.
	if !strings.Contains(texts(posts), e.msg("totp.prompt")) {
		t.Fatalf("no authenticator prompt: %q", texts(posts))
	}
	for _, p := range posts {
		if p.Channel != "DU1" || p.Method != "chat.postMessage" {
			t.Fatalf("reply outside the DM: %+v", p)
		}
	}
	posts = e.click("U1", e.find(posts, e.msg("factor.sms")))
	if p := posts[0]; p.Method != "chat.update" || len(buttons(posts[:1])) != 0 ||
		!strings.Contains(fmt.Sprint(p.Blocks), "✓ "+e.msg("factor.sms")) {
		t.Fatalf("clicked message not updated: %+v", p)
	}
	meta, n := e.openModal("U1", e.find(posts, e.msg("chat.button.code")))
	if n != 1 {
		t.Fatalf("code modal has %d inputs", n)
	}
	resp, posted := e.submit("U1", meta, "000000")
	if resp["response_action"] != "errors" || len(posted) != 0 {
		t.Fatalf("wrong code: ack %v, posted %d", resp, len(posted))
	}
	resp, posts = e.submit("U1", meta, e.lastCode())
	// The email code is sent at once, and the prompt says where.
	if !closedOrChained(resp) || !strings.Contains(texts(posts), e.msg("verify.ok_more")) ||
		!strings.Contains(texts(posts), "a•••@personal.example") {
		t.Fatalf("right code: ack %v, posted %q", resp, texts(posts))
	}
	posts = e.dm("U1", e.lastCode()) // typed in the DM this time
	prompt := e.a.Messages.Text("en", "password.prompt", false, map[string]string{"min": "15"})
	if !strings.Contains(texts(posts), prompt) {
		t.Fatalf("no password prompt: %q", texts(posts))
	}
	meta, n = e.openModal("U1", e.find(posts, e.msg("chat.button.password")))
	if n != 2 {
		t.Fatalf("password modal has %d inputs, want 2 (password, confirm)", n)
	}
	short, good := "Sh0rt-pw", "Correct-Horse-Battery-Slack-9"
	e.secrets = append(e.secrets, short, good, "Mismatch-Horse-Battery-77")
	for _, bad := range [][2]string{{short, short}, {good, "Mismatch-Horse-Battery-77"}} {
		resp, posted = e.submit("U1", meta, bad[0], bad[1])
		errs, _ := resp["errors"].(map[string]any)
		if resp["response_action"] != "errors" || errs[blockInput] == "" || len(posted) != 0 {
			t.Fatalf("refused password: ack %v, posted %d", resp, len(posted))
		}
	}
	resp, posts = e.submit("U1", meta, good, good)
	if resp["response_action"] != "clear" || !strings.Contains(texts(posts), "your password has been changed") {
		t.Fatalf("reset: ack %v, posted %q", resp, texts(posts))
	}
	e.assertNoLeak()
}

// TestUnlock runs an unlock started by the slash command in a channel: the
// channel gets only an ephemeral note, the conversation continues in the DM.
func TestUnlock(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			e := newEnv(t, tr.socket)
			var ack []byte
			posts := e.step(func() {
				ack = e.tr.command(t, url.Values{"command": {"/unlock"}, "team_id": {testTeam}, "user_id": {"U2"},
					"channel_id": {"C1"}, "channel_name": {"general"}, "trigger_id": {e.next("trg-")}, "text": {"hunter2"}})
			})
			var resp map[string]string
			if err := json.Unmarshal(ack, &resp); err != nil || resp["response_type"] != "ephemeral" ||
				resp["text"] != e.msg("slack.moved_to_dm") {
				t.Fatalf("command ack %q", ack)
			}
			for _, p := range posts {
				if p.Channel != "DU2" {
					t.Fatalf("conversation outside the DM: %+v", p)
				}
			}
			if strings.Contains(texts(posts), e.msg("identify.prompt")) {
				posts = e.dm("U2", "chiara.rossi@demo.example")
			}
			posts = e.click("U2", e.find(posts, e.msg("factor.voice")))
			meta, _ := e.openModal("U2", e.find(posts, e.msg("chat.button.code")))
			resp2, posts := e.submit("U2", meta, e.lastCode())
			if resp2["response_action"] != "clear" || !strings.Contains(texts(posts), "your account is unlocked") {
				t.Fatalf("unlock: ack %v, posted %q", resp2, texts(posts))
			}
			e.assertNoLeak("hunter2")
		})
	}
}

// enrollTo walks user U3 (Spanish) through the two factors enrolling needs,
// up to the enrollment.
func (e *env) enrollTo() []posted {
	e.t.Helper()
	posts := e.dm("U3", "enroll")
	if strings.Contains(texts(posts), e.a.Messages.Text("es", "identify.prompt", false, nil)) {
		posts = e.dm("U3", "fhaddad")
	}
	posts = e.click("U3", e.find(posts, e.a.Messages.Text("es", "factor.sms", false, nil)))
	e.dm("U3", e.lastCode())
	// Enrolling needs a reset's two factors: the email code follows at once.
	return e.dm("U3", e.lastCode())
}

// TestEnrollByPage: by default the enrollment reaches Slack only as a link
// button to resetbot's one-time page; nothing is uploaded, the seed never
// reaches Slack, the page shows it once on POST, and the link dies when the
// person leaves the step.
func TestEnrollByPage(t *testing.T) {
	e := newEnv(t, false)
	posts := e.enrollTo()
	if e.f.uploads != 0 || e.f.callCount("files.completeUploadExternal") != 0 {
		t.Fatalf("page mode uploaded a file: %v", e.f.calls)
	}
	if !strings.Contains(texts(posts), e.a.Messages.Text("es", "enroll.totp.link", false, nil)) {
		t.Fatalf("no link message: %q", texts(posts))
	}
	link := e.find(posts, e.a.Messages.Text("es", "chat.button.open_setup", false, nil)).URL
	if !enrollpage.Check("https://resetbot.test", link) {
		t.Fatalf("button URL %q is not an enrollment page link", link)
	}
	tok := link[strings.Index(link, "#")+1:]
	page := func(method string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, enrollpage.Path, strings.NewReader("t="+tok))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		e.a.EnrollPages.ServeHTTP(w, req)
		return w
	}
	if w := page(http.MethodGet); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "<img") {
		t.Fatalf("GET: %d", w.Code)
	}
	w := page(http.MethodPost)
	m := regexp.MustCompile(`<code>([A-Z2-7 ]+)</code>`).FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil || !strings.Contains(w.Body.String(), "data:image/png") {
		t.Fatalf("POST: %d %s", w.Code, w.Body.String())
	}
	seed := strings.ReplaceAll(m[1], " ", "")
	if page(http.MethodPost).Code != http.StatusGone {
		t.Fatal("the page showed the seed twice")
	}
	e.assertNoLeak(seed)
	e.logs.AssertNoSecrets(t, tok) // the token is in the button by design, never in a log

	// A second link, then leaving the step: the unopened page is revoked.
	e.dm("U3", "cancel")
	posts = e.enrollTo()
	link = e.find(posts, e.a.Messages.Text("es", "chat.button.open_setup", false, nil)).URL
	tok = link[strings.Index(link, "#")+1:]
	e.dm("U3", "cancel")
	if w := page(http.MethodPost); w.Code != http.StatusGone {
		t.Fatalf("a page outlived its enrollment step: %d", w.Code)
	}
}

// TestEnrollQRInChat (opt-in enroll_delivery: chat) checks the QR is
// uploaded to the DM as an image (files upload v2), the setup key goes only
// in an ephemeral note, and the file is deleted once the user leaves the
// enrollment step.
func TestEnrollQRInChat(t *testing.T) {
	e := newEnv(t, false, chatDelivery)
	posts := e.enrollTo()
	if e.f.callCount("files.completeUploadExternal") != 1 || e.f.uploads != 1 {
		t.Fatalf("QR not uploaded: %v", e.f.calls)
	}
	if !strings.Contains(texts(posts), e.a.Messages.Text("es", "enroll.totp.scan", false, nil)) {
		t.Fatalf("Spanish locale not used: %q", texts(posts))
	}
	note, _, _ := strings.Cut(e.a.Messages.Text("es", "enroll.totp.key_private", false, map[string]string{"key": "K"}), ": K")
	ephemeral := 0
	for _, p := range posts {
		if strings.Contains(p.Text, note) {
			if p.Method != "chat.postEphemeral" {
				t.Fatalf("setup key in a message kept in history: %+v", p)
			}
			ephemeral++
			key := p.Text[strings.LastIndex(p.Text, ": ")+2:]
			if len(key) < 16 {
				t.Fatalf("no setup key in the note: %q", p.Text)
			}
			e.logs.AssertNoSecrets(t, key)
		}
	}
	if ephemeral != 1 {
		t.Fatalf("setup key not offered ephemerally: %v", e.f.calls)
	}
	e.dm("U3", "cancel")
	if len(e.f.deleted) != 1 || e.f.deleted[0] != "F1" {
		t.Fatalf("QR not deleted after leaving enrollment: %v", e.f.deleted)
	}
	e.assertNoLeak()
}

func chatDelivery(c *config.Config, _ *Options) {
	slackOf(c).EnrollDelivery = EnrollDeliveryChat
}

// TestQRCleanupIsDurable: a person who walks away leaves the QR in the DM;
// another replica (a fresh Bot on the shared store, as after a restart)
// deletes it once it is due, from the durable queue, and only once.
func TestQRCleanupIsDurable(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, false, chatDelivery, func(_ *config.Config, o *Options) { o.Clock = clock })
	ctx := context.Background()
	e.b.rememberQR(ctx, "T1:U9", "F42")
	other, err := New(e.b.o)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if n, _ := other.SweepCleanups(ctx); n != 0 || len(e.f.deleted) != 0 {
		t.Fatalf("deleted before due: %v", e.f.deleted)
	}
	mu.Lock()
	now = now.Add(qrMaxAge)
	mu.Unlock()
	if n, err := other.SweepCleanups(ctx); n != 1 || err != nil {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if n, _ := e.b.SweepCleanups(ctx); n != 0 || len(e.f.deleted) != 1 || e.f.deleted[0] != "F42" {
		t.Fatalf("deleted %v", e.f.deleted)
	}
}

// TestQRDeletedByAnotherReplica: the QR file is recorded in the shared store,
// so a second replica handling the user's next turn deletes it.
func TestQRDeletedByAnotherReplica(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	e.b.rememberQR(ctx, "T1:U9", "F42")
	other, err := New(e.b.o)
	if err != nil {
		t.Fatal(err)
	}
	other.deleteQR(ctx, "T1:U9")
	if len(e.f.deleted) != 1 || e.f.deleted[0] != "F42" {
		t.Fatalf("deleted %v", e.f.deleted)
	}
	if _, err := e.a.Store.Get(ctx, qrKey("T1:U9")); err == nil {
		t.Fatal("the QR record outlived the deletion")
	}
}
