package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/secret"
)

// usersInfoTok has characters the form must escape.
const usersInfoTok = "xoxb-1/2+3=4&5"

// fakeAnswer is what a fake users.info answers.
type fakeAnswer struct {
	status int
	header map[string]string
	body   string
}

// usersInfoServer answers every request with *a and sends the request's
// method, content type and raw body on reqs.
func usersInfoServer(t testing.TB, a *fakeAnswer, reqs chan<- string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if reqs != nil {
			reqs <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type") + " " + string(raw)
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// tokenBot is a Bot with only what the Web API calls need: the token, the
// API URL of a fake at base and its client.
func tokenBot(base string, c *http.Client) *Bot {
	return &Bot{o: Options{Config: Config{BotToken: secret.New(usersInfoTok)}, APIURL: base + "/api/", HTTPClient: c}}
}

// realUser is a full users.info answer (testdata), with edit applied to
// its user object.
func realUser(t testing.TB, edit func(u, p map[string]any)) string {
	raw, err := os.ReadFile("testdata/users.info.json")
	if err != nil {
		t.Fatal(err)
	}
	var a map[string]any
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	u := a["user"].(map[string]any)
	edit(u, u["profile"].(map[string]any))
	out, _ := json.Marshal(a)
	return string(out)
}

// fromSlackGo is what profile reads of slack-go's User.
func fromSlackGo(u *slack.User) userInfo {
	if u == nil {
		return userInfo{}
	}
	i := userInfo{TeamID: u.TeamID, Deleted: u.Deleted, IsBot: u.IsBot, IsAppUser: u.IsAppUser,
		IsRestricted: u.IsRestricted, IsUltraRestricted: u.IsUltraRestricted, IsStranger: u.IsStranger,
		IsEmailConfirmed: u.IsEmailConfirmed, Locale: u.Locale}
	i.Profile.Email = u.Profile.Email
	return i
}

// sameError compares errors by type and value; a JSON syntax error by type
// only (slack-go's stream decoder and json.Unmarshal count offsets apart).
func sameError(ours, theirs error) bool {
	var so, st *json.SyntaxError
	if errors.As(ours, &so) || errors.As(theirs, &st) {
		return errors.As(ours, &so) && errors.As(theirs, &st)
	}
	return reflect.DeepEqual(ours, theirs)
}

// TestUsersInfoIsSlackGos runs the hand-written users.info and slack-go's
// GetUserInfoContext against the same answers: the same request goes out
// (byte for byte), and profile gets the same fields and the same errors,
// by type and value (postRetry and the logs rely on slack-go's types).
// Where they differ on purpose, the case says why and checks ours.
func TestUsersInfoIsSlackGos(t *testing.T) {
	none := func(u, p map[string]any) {}
	cases := []struct {
		name   string
		answer fakeAnswer
		// differs is why ours answers otherwise than slack-go; ok checks ours.
		differs string
		ok      func(userInfo, error) bool
	}{
		{name: "full answer", answer: fakeAnswer{status: 200, body: realUser(t, none)}},
		{name: "guest", answer: fakeAnswer{status: 200, body: realUser(t, func(u, p map[string]any) { u["is_restricted"] = true })}},
		{name: "single-channel guest", answer: fakeAnswer{status: 200, body: realUser(t, func(u, p map[string]any) {
			u["is_restricted"], u["is_ultra_restricted"] = true, true
		})}},
		{name: "Slack Connect stranger", answer: fakeAnswer{status: 200, body: realUser(t, func(u, p map[string]any) {
			u["is_stranger"], u["team_id"] = true, "T0ELSEWHERE"
		})}},
		{name: "bot", answer: fakeAnswer{status: 200, body: realUser(t, func(u, p map[string]any) {
			u["is_bot"], p["bot_id"], p["always_active"] = true, "B0BOT", true
			delete(p, "email")
			delete(u, "locale")
		})}},
		{name: "app user", answer: fakeAnswer{status: 200, body: realUser(t, func(u, p map[string]any) { u["is_app_user"] = true })}},
		{name: "deleted", answer: fakeAnswer{status: 200, body: realUser(t, func(u, p map[string]any) { u["deleted"] = true })}},
		{name: "unconfirmed email", answer: fakeAnswer{status: 200, body: realUser(t, func(u, p map[string]any) { u["is_email_confirmed"] = false })}},
		{name: "custom fields as []", answer: fakeAnswer{status: 200, body: realUser(t, func(u, p map[string]any) { p["fields"] = []any{} })}},
		{name: "user_not_found", answer: fakeAnswer{status: 200, body: `{"ok":false,"error":"user_not_found"}`}},
		{name: "429 Retry-After", answer: fakeAnswer{status: 429, header: map[string]string{"Retry-After": "7"}, body: `{"ok":false,"error":"ratelimited"}`}},
		{name: "500", answer: fakeAnswer{status: 500, body: "<html>oops</html>"}},
		{name: "malformed JSON", answer: fakeAnswer{status: 200, body: `{"ok":true,"user":{"id":"U1",]}`}},
		{name: "truncated JSON", answer: fakeAnswer{status: 200, body: realUser(t, none)[:300]},
			differs: "slack-go's stream decoder says io.ErrUnexpectedEOF; json.Unmarshal a *json.SyntaxError",
			ok:      func(_ userInfo, err error) bool { var se *json.SyntaxError; return errors.As(err, &se) }},
		{name: "larger than the limit", answer: fakeAnswer{status: 200, body: realUser(t, func(u, p map[string]any) {
			p["status_text"] = strings.Repeat("x", maxAPIResponse)
		})}, differs: "slack-go reads any size; ours refuses more than maxAPIResponse",
			ok: func(_ userInfo, err error) bool { return err != nil && strings.Contains(err.Error(), "larger than") }},
		{name: "ok:false without error", answer: fakeAnswer{status: 200, body: `{"ok":false}`},
			differs: "slack-go returns an empty user and no error; ours fails closed, as postMessage",
			ok:      func(_ userInfo, err error) bool { return reflect.DeepEqual(err, slack.SlackErrorResponse{}) }},
		{name: "429 without Retry-After", answer: fakeAnswer{status: 429},
			differs: "slack-go says StatusCodeError 429; ours a rate limit to retry now, as postMessage",
			ok:      func(_ userInfo, err error) bool { return reflect.DeepEqual(err, &slack.RateLimitedError{}) }},
		{name: "a field profile does not read has another type", answer: fakeAnswer{status: 200, body: realUser(t, func(u, p map[string]any) {
			u["tz_offset"] = "+01:00"
		})}, differs: "slack-go decodes every field and fails; ours reads only what profile needs",
			ok: func(u userInfo, err error) bool { return err == nil && u.Profile.Email == "alice.martin@example.org" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reqs := make(chan string, 2)
			srv := usersInfoServer(t, &c.answer, reqs)
			b := tokenBot(srv.URL, srv.Client())
			ctx := context.Background()
			ours, oerr := b.usersInfo(ctx, "U04ALICE")
			api := slack.New(usersInfoTok, slack.OptionAPIURL(srv.URL+"/api/"), slack.OptionHTTPClient(srv.Client()))
			u, terr := api.GetUserInfoContext(ctx, "U04ALICE", slack.GetUserInfoOptionIncludeLocale(true))
			if or, tr := <-reqs, <-reqs; or != tr {
				t.Errorf("usersInfo sent\n%s\nslack-go sends\n%s", or, tr)
			}
			if c.differs != "" {
				if sameError(oerr, terr) && ours == fromSlackGo(u) {
					t.Errorf("said to differ (%s), but both give %+v, %v", c.differs, ours, oerr)
				}
				if !c.ok(ours, oerr) {
					t.Errorf("usersInfo = %+v, %v (%s)", ours, oerr, c.differs)
				}
				return
			}
			if !sameError(oerr, terr) {
				t.Fatalf("usersInfo error %#v, slack-go's %#v", oerr, terr)
			}
			if theirs := fromSlackGo(u); terr == nil && ours != theirs {
				t.Errorf("usersInfo = %+v, slack-go's %+v", ours, theirs)
			}
			if terr == nil && ours == (userInfo{}) {
				t.Errorf("usersInfo read nothing: %+v", ours)
			}
		})
	}
}

// TestUsersInfoKeepsTheTokenSecret: the token reaches Slack, and no error
// usersInfo returns names it, even when the answer echoes it.
// tokenLeakAnswers are failed users.info answers, most quoting the token:
// no error made of them may name it.
func tokenLeakAnswers() []fakeAnswer {
	return []fakeAnswer{
		{status: 200, body: `{"ok":false,"error":"invalid_auth"}`},
		{status: 200, body: `{"ok":false,"error":"invalid_auth","token":"` + usersInfoTok + `"}`},
		{status: 200, body: `{"ok":true,"user":{"deleted":"` + usersInfoTok + `"}}`},
		{status: 200, body: usersInfoTok},
		{status: 500, body: usersInfoTok},
		{status: 429, header: map[string]string{"Retry-After": usersInfoTok}, body: usersInfoTok},
		{status: 200, body: `{"ok":true,"user":{"locale":"` + strings.Repeat(usersInfoTok, maxAPIResponse/len(usersInfoTok)) + `"}}`},
	}
}

func TestUsersInfoKeepsTheTokenSecret(t *testing.T) {
	esc := url.QueryEscape(usersInfoTok)
	for _, a := range tokenLeakAnswers() {
		reqs := make(chan string, 1)
		srv := usersInfoServer(t, &a, reqs)
		b := tokenBot(srv.URL, srv.Client())
		_, err := b.usersInfo(context.Background(), "U1")
		if r := <-reqs; !strings.Contains(r, "&token="+esc+"&") {
			t.Errorf("the token was not sent: %s", r)
		}
		if err == nil {
			t.Errorf("answer %d %.40q: no error", a.status, a.body)
		} else if s := err.Error(); strings.Contains(s, usersInfoTok) || strings.Contains(s, esc) {
			t.Errorf("error names the token: %s", s)
		}
	}
	// A transport failure names the URL, which does not carry the token.
	srv := usersInfoServer(t, &fakeAnswer{status: 200}, nil)
	b := tokenBot(srv.URL, srv.Client())
	srv.Close()
	if _, err := b.usersInfo(context.Background(), "U1"); err == nil || strings.Contains(err.Error(), usersInfoTok) || strings.Contains(err.Error(), esc) {
		t.Errorf("transport failure: %v", err)
	}
}

// BenchmarkUsersInfo compares one users.info call (a full answer) through
// slack-go's GetUserInfoContext, as profile made it before, and through
// usersInfo: over loopback HTTP (B/op then counts the fake server's too),
// and through a transport that answers from memory (the client's cost
// alone, which is what serve spends).
func BenchmarkUsersInfo(b *testing.B) {
	body := realUser(b, func(u, p map[string]any) {})
	srv := usersInfoServer(b, &fakeAnswer{status: 200, body: body}, nil)
	for _, tr := range []struct {
		name   string
		client *http.Client
	}{
		{"loopback", &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}},
		{"memory", &http.Client{Transport: memoryAnswer(body)}},
	} {
		ctx := context.Background()
		b.Run(tr.name+"/slack-go", func(b *testing.B) {
			api := slack.New(usersInfoTok, slack.OptionAPIURL(srv.URL+"/api/"), slack.OptionHTTPClient(tr.client))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := api.GetUserInfoContext(ctx, "U04ALICE", slack.GetUserInfoOptionIncludeLocale(true)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tr.name+"/usersInfo", func(b *testing.B) {
			bot := tokenBot(srv.URL, tr.client)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bot.usersInfo(ctx, "U04ALICE"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// memoryAnswer is a transport that answers every request with 200 and body.
type memoryAnswer string

func (m memoryAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, ContentLength: -1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(string(m))), Request: r}, nil
}
