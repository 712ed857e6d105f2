package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

var transports = []struct {
	name   string
	socket bool
}{{"events_api", false}, {"socket_mode", true}}

// TestReset runs a full password reset over each transport: DM, buttons,
// a code typed in a modal (first wrong: refused inside the modal), a code
// typed in the DM, then the password modal with policy refusals and a
// mismatch shown inside the modal.
func TestReset(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			e := newEnv(t, tr.socket)
			posts := e.dm("U1", "hi, I forgot my password")
			if strings.Contains(texts(posts), e.msg("identify.prompt")) {
				posts = e.dm("U1", "amartin")
			}
			if !strings.Contains(texts(posts), e.msg("factor.choose")) {
				t.Fatalf("no factor choice: %q", texts(posts))
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
			meta, n := e.openModal("U1", e.find(posts, e.msg("slack.button.code")))
			if n != 1 {
				t.Fatalf("code modal has %d inputs", n)
			}
			resp, posted := e.submit("U1", meta, "000000")
			if resp["response_action"] != "errors" || len(posted) != 0 {
				t.Fatalf("wrong code: ack %v, posted %d", resp, len(posted))
			}
			resp, posts = e.submit("U1", meta, e.lastCode())
			if resp["response_action"] != "clear" || !strings.Contains(texts(posts), e.msg("factor.another")) {
				t.Fatalf("right code: ack %v, posted %q", resp, texts(posts))
			}
			posts = e.click("U1", e.find(posts, e.msg("factor.email")))
			posts = e.dm("U1", e.lastCode()) // typed in the DM this time
			prompt := e.a.Messages.Text("en", "password.prompt", false, map[string]string{"min": "15"})
			if !strings.Contains(texts(posts), prompt) {
				t.Fatalf("no password prompt: %q", texts(posts))
			}
			meta, n = e.openModal("U1", e.find(posts, e.msg("slack.button.password")))
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
		})
	}
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
			meta, _ := e.openModal("U2", e.find(posts, e.msg("slack.button.code")))
			resp2, posts := e.submit("U2", meta, e.lastCode())
			if resp2["response_action"] != "clear" || !strings.Contains(texts(posts), "your account is unlocked") {
				t.Fatalf("unlock: ack %v, posted %q", resp2, texts(posts))
			}
			e.assertNoLeak("hunter2")
		})
	}
}

// TestEnrollQR checks the enrollment QR is uploaded to the DM as an image
// (files upload v2) and deleted once the user leaves the enrollment step.
func TestEnrollQR(t *testing.T) {
	e := newEnv(t, false)
	posts := e.dm("U3", "enroll")
	if strings.Contains(texts(posts), e.a.Messages.Text("es", "identify.prompt", false, nil)) {
		posts = e.dm("U3", "fhaddad")
	}
	posts = e.click("U3", e.find(posts, e.a.Messages.Text("es", "factor.sms", false, nil)))
	posts = e.dm("U3", e.lastCode())
	// Enrolling needs a reset's two factors.
	posts = e.click("U3", e.find(posts, e.a.Messages.Text("es", "factor.email", false, nil)))
	posts = e.dm("U3", e.lastCode())
	if e.f.callCount("files.completeUploadExternal") != 1 || e.f.uploads != 1 {
		t.Fatalf("QR not uploaded: %v", e.f.calls)
	}
	if !strings.Contains(texts(posts), e.a.Messages.Text("es", "enroll.totp.scan", false, nil)) {
		t.Fatalf("Spanish locale not used: %q", texts(posts))
	}
	e.dm("U3", "cancel")
	if len(e.f.deleted) != 1 || e.f.deleted[0] != "F1" {
		t.Fatalf("QR not deleted after leaving enrollment: %v", e.f.deleted)
	}
	e.assertNoLeak()
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
