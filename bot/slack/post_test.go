package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/secret"
)

// TestPostMessageSendsWhatSlackGoSends checks the hand-written
// chat.postMessage against slack-go's: the same form fields reach the Web
// API (the blocks as the same JSON value), and a refusal ({"ok": false}) is an error.
func TestPostMessageSendsWhatSlackGoSends(t *testing.T) {
	forms := make(chan url.Values, 2)
	answer := `{"ok":true,"channel":"D1","ts":"1.2"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		f, _ := url.ParseQuery(string(raw))
		forms <- f
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, answer)
	}))
	defer srv.Close()
	const tok = "xoxb-test-token"
	blocks := []slack.Block{section("Choose *one* & go <now>"),
		slack.NewActionBlock("a", slack.NewButtonBlockElement("b1", "v=1&x", slack.NewTextBlockObject("plain_text", "Reset", false, false)))}
	b := &Bot{o: Options{Config: Config{BotToken: secret.New(tok)}, APIURL: srv.URL + "/api/",
		HTTPClient: srv.Client()}}
	ctx := context.Background()
	if err := b.postMessage(ctx, "D1", blocks, "Choose one & go"); err != nil {
		t.Fatal(err)
	}
	ours := <-forms
	api := slack.New(tok, slack.OptionAPIURL(srv.URL+"/api/"), slack.OptionHTTPClient(srv.Client()))
	if _, _, err := api.PostMessageContext(ctx, "D1", slack.MsgOptionBlocks(blocks...), slack.MsgOptionText("Choose one & go", false)); err != nil {
		t.Fatal(err)
	}
	theirs := <-forms
	// The blocks are the same JSON value (slack-go's escapes <, > and &).
	for _, f := range []url.Values{ours, theirs} {
		var v any
		if err := json.Unmarshal([]byte(f.Get("blocks")), &v); err != nil {
			t.Fatal(err)
		}
		canon, _ := json.Marshal(v)
		f.Set("blocks", string(canon))
	}
	if !reflect.DeepEqual(ours, theirs) {
		t.Errorf("postMessage sent\n%v\nslack-go sends\n%v", ours, theirs)
	}
	answer = `{"ok":false,"error":"channel_not_found"}`
	if err := b.postMessage(ctx, "D1", blocks, "x"); err == nil {
		t.Error("a refused post is not an error")
	}
	<-forms
}

// TestAppendQueryEscapeIsQueryEscape: the form body of chat.postMessage is
// escaped by hand; it must be exactly url.QueryEscape, byte for byte, over
// every byte value.
func TestAppendQueryEscapeIsQueryEscape(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", "plain", "a b+c&d=e/f?g", `{"type":"section","text":"⚠️ é"}`, string(all)} {
		want := url.QueryEscape(s)
		if got := string(appendQueryEscape([]byte("x"), s)); got != "x"+want {
			t.Errorf("appendQueryEscape(%q) = %q, want %q", s, got[1:], want)
		}
		if n := escapedLen([]byte(s)); n != len(want) {
			t.Errorf("escapedLen(%q) = %d, want %d", s, n, len(want))
		}
	}
}
