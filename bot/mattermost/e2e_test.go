package mattermost

import (
	"strings"
	"testing"
)

// TestReset runs a full password reset through the fake server: the DM,
// a factor button whose click opens the code dialog at once, a wrong code
// refused inside the dialog, the right one, the second code typed in the
// DM (deleted from the channel, and said so), then the new password in a
// masked dialog: too short and mismatched refused inside it, then set.
func TestReset(t *testing.T) {
	e := newEnv(t)
	posts, _ := e.dm(uAlice, "hi, I forgot my password")
	if !strings.Contains(texts(posts), e.msg("totp.prompt")) {
		t.Fatalf("no authenticator prompt: %q", texts(posts))
	}
	for _, p := range posts {
		if p.ChannelID != e.f.dmID(uAlice) {
			t.Fatalf("reply outside the DM: %+v", p)
		}
	}
	n := e.f.dialogCount()
	clicked, _ := e.find(posts, e.msg("factor.sms"))
	e.click(uAlice, posts, e.msg("factor.sms"))
	if e.f.dialogCount() != n+1 {
		t.Fatal("the factor click did not open the code dialog with its trigger")
	}
	d := e.f.dialogAt(n)
	if len(d.Dialog.Elements) != 1 || d.Dialog.Elements[0].SubType != "password" || d.URL != e.cb.URL+PathDialog {
		t.Fatalf("code dialog: %+v", d)
	}
	if got := e.f.botPosts(0); len(actionsOf(findPost(got, clicked.ID))) != 0 {
		t.Fatal("the clicked post kept its buttons")
	}
	resp, posted := e.submit(n, map[string]string{fieldCode: "000000"})
	if errs, _ := resp["errors"].(map[string]any); errs[fieldCode] == nil || len(posted) != 0 {
		t.Fatalf("wrong code: response %v, posted %d", resp, len(posted))
	}
	resp, posts = e.submit(n, map[string]string{fieldCode: e.lastCode()})
	if len(resp) != 0 || !strings.Contains(texts(posts), e.msg("verify.ok_more")) {
		t.Fatalf("right code: response %v, posted %q", resp, texts(posts))
	}
	code := e.lastCode()
	posts, typedID := e.dm(uAlice, code) // typed in the DM this time
	if !e.f.isDeleted(typedID) || !strings.Contains(texts(posts), e.msg(msgCodeDeleted)) {
		t.Fatalf("a code typed in the DM was not deleted and said so: %q", texts(posts))
	}
	prompt := e.a.Messages.Text("en", "password.prompt", false, map[string]string{"min": "15"})
	if !strings.Contains(texts(posts), prompt) {
		t.Fatalf("no password prompt: %q", texts(posts))
	}
	n = e.openDialog(uAlice, posts, e.msg(msgButtonPassword))
	d = e.f.dialogAt(n)
	if len(d.Dialog.Elements) != 2 || d.Dialog.Elements[0].SubType != "password" || d.Dialog.Elements[1].SubType != "password" {
		t.Fatalf("password dialog is not two masked fields: %+v", d.Dialog.Elements)
	}
	short, good, other := "Sh0rt-pw", "Correct-Horse-Battery-Matter-9", "Mismatch-Horse-Battery-77"
	for _, bad := range [][2]string{{short, short}, {good, other}} {
		resp, posted = e.submit(n, map[string]string{fieldPassword: bad[0], fieldConfirm: bad[1]})
		if errs, _ := resp["errors"].(map[string]any); errs[fieldPassword] == nil || len(posted) != 0 {
			t.Fatalf("refused password: response %v, posted %d", resp, len(posted))
		}
	}
	resp, posts = e.submit(n, map[string]string{fieldPassword: good, fieldConfirm: good})
	if len(resp) != 0 || !strings.Contains(texts(posts), "your password has been changed") {
		t.Fatalf("reset: response %v, posted %q", resp, texts(posts))
	}
	e.assertNoLeak()
}

// TestUnlock runs an unlock: the voice-call factor's button opens the code
// dialog, the code unlocks the account.
func TestUnlock(t *testing.T) {
	e := newEnv(t)
	posts, _ := e.dm(uChiara, "I'm locked out")
	if strings.Contains(texts(posts), e.msg("identify.prompt")) {
		posts, _ = e.dm(uChiara, "crossi")
	}
	n := e.f.dialogCount()
	e.click(uChiara, posts, e.msg("factor.voice"))
	if e.f.dialogCount() != n+1 {
		t.Fatal("no code dialog after choosing the voice call")
	}
	resp, posts := e.submit(n, map[string]string{fieldCode: e.lastCode()})
	if len(resp) != 0 || !strings.Contains(texts(posts), "your account is unlocked") {
		t.Fatalf("unlock: response %v, posted %q", resp, texts(posts))
	}
	e.assertNoLeak()
}

// TestTypedPasswordDeleted: a password typed into the DM at the password
// prompt is never used, its post is deleted, and the reply says so instead
// of asking the person to delete it.
func TestTypedPasswordDeleted(t *testing.T) {
	e := newEnv(t)
	posts := e.toPasswordPrompt(uAlice)
	typedPW := "Typed-Into-Chat-Horse-42"
	e.secrets = append(e.secrets, typedPW)
	posts, id := e.dm(uAlice, typedPW)
	if !e.f.isDeleted(id) {
		t.Fatal("the typed password's post was not deleted")
	}
	got := texts(posts)
	if !strings.Contains(got, e.msg(msgSecretDeleted)) || strings.Contains(got, e.msg("password.use_form")) {
		t.Fatalf("reply to a typed password: %q", got)
	}
	// The masked form is still offered, and still works.
	n := e.openDialog(uAlice, posts, e.msg(msgButtonPassword))
	good := "Correct-Horse-Battery-Matter-9"
	_, posts = e.submit(n, map[string]string{fieldPassword: good, fieldConfirm: good})
	if !strings.Contains(texts(posts), "your password has been changed") {
		t.Fatalf("reset after a typed password: %q", texts(posts))
	}
	e.assertNoLeak()
}

// toPasswordPrompt verifies user with the SMS and email codes, both typed
// in dialogs, and returns the password prompt.
func (e *env) toPasswordPrompt(user string) []*post {
	e.t.Helper()
	posts, _ := e.dm(user, "reset my password")
	n := e.f.dialogCount()
	e.click(user, posts, e.msg("factor.sms"))
	e.submit(n, map[string]string{fieldCode: e.lastCode()})
	posts = e.f.botPosts(e.f.postCount() - 1)
	n = e.openDialog(user, posts, e.msg(msgButtonCode))
	_, posts = e.submit(n, map[string]string{fieldCode: e.lastCode()})
	prompt := e.a.Messages.Text("en", "password.prompt", false, map[string]string{"min": "15"})
	if !strings.Contains(texts(posts), prompt) {
		e.t.Fatalf("no password prompt: %q", texts(posts))
	}
	return posts
}

func findPost(posts []*post, id string) *post {
	for _, p := range posts {
		if p.ID == id {
			return p
		}
	}
	return &post{}
}

// TestTypedPasswordNotDeletable: without the delete_others_posts
// permission the post stays, and the reply is the flow's own (never used,
// please delete it); the password is still never used nor echoed.
func TestTypedPasswordNotDeletable(t *testing.T) {
	e := newEnv(t)
	e.f.mu.Lock()
	e.f.deleteOthers = false
	e.f.mu.Unlock()
	e.toPasswordPrompt(uAlice)
	typedPW := "Typed-Into-Chat-Horse-42"
	e.secrets = append(e.secrets, typedPW)
	posts, id := e.dm(uAlice, typedPW)
	got := texts(posts)
	if e.f.isDeleted(id) || !strings.Contains(got, e.msg("password.use_form")) || strings.Contains(got, e.msg(msgSecretDeleted)) {
		t.Fatalf("reply to an undeletable typed password: %q", got)
	}
	e.assertNoLeak()
}
