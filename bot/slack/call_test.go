package slack

import (
	"errors"
	"net/http"
	"testing"

	"github.com/slack-go/slack"
)

// TestOKAnswerSkipsOnlyWhatIsOK: a chat.postMessage answer that starts by
// saying ok is taken as ok without decoding; any other answer is decoded in
// full, and an answer whose fields the caller reads always is.
func TestOKAnswerSkipsOnlyWhatIsOK(t *testing.T) {
	for body, want := range map[string]bool{
		`{"ok":true}`: true, `{"ok":true,"channel":"D1","ts":"1.2"}`: true, " {\"ok\":true ,\"x\":1}\n": true,
		`{"ok":truex}`: false, `{"ok":true`: false, `{"ok":false,"error":"x"}`: false,
		`{"channel":"D1","ok":true}`: false, ``: false, `{"ok": true}`: false,
	} {
		if got := okAnswer([]byte(body)); got != want {
			t.Errorf("okAnswer(%q) = %v", body, got)
		}
	}
	for body, wantErr := range map[string]string{
		`{"ok":true,"ts":"1.2"}`: "", `{"channel":"D1","ok":true}`: "", `{"ok": true}`: "", // the last two decoded in full
		`{"ok":false,"error":"channel_not_found"}`: "channel_not_found", `{"error":"x"}`: "x",
	} {
		var st apiStatus
		err := decodeAnswer("chat.postMessage", http.StatusOK, "200 OK", "", []byte(body), &st)
		var se slack.SlackErrorResponse
		switch {
		case wantErr == "" && (err != nil || !st.OK || st.Error != ""):
			t.Errorf("%s: %v, status %+v", body, err, st)
		case wantErr != "" && (!errors.As(err, &se) || se.Err != wantErr):
			t.Errorf("%s: err %v, want Slack's %q", body, err, wantErr)
		}
	}
	// An answer cut after its ok is taken as ok: Slack said the post was made.
	var st apiStatus
	if err := decodeAnswer("chat.postMessage", http.StatusOK, "200 OK", "", []byte(`{"ok":true,`), &st); err != nil || !st.OK {
		t.Errorf("cut answer after ok: %v", err)
	}
	var u struct {
		apiStatus
		User userInfo `json:"user"`
	}
	if err := decodeAnswer("users.info", http.StatusOK, "200 OK", "", []byte(`{"ok":true,"user":{"id":"U1","locale":"fr-FR"}}`), &u); err != nil || u.User.Locale != "fr-FR" {
		t.Errorf("users.info answer not decoded: %+v %v", u, err)
	}
}
