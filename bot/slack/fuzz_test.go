package slack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
)

// FuzzParsePayload feeds arbitrary bytes to every payload parser and, with a
// valid signature, to every handler: nothing may panic, and a body a parser
// refuses is answered with an error status (the handlers return before
// queueing anything on that path).
func FuzzParsePayload(f *testing.F) {
	f.Add(messageEvent("Ev1", "U1", "DU1", "reset"))
	f.Add(mentionEvent("Ev2", "U1", "C1", "<@U0> unlock"))
	f.Add([]byte(`{"type":"url_verification","challenge":"x"}`))
	f.Add([]byte(url.Values{"payload": {string(actionPayload("U1", "t1", button{ActionID: actionChoice + "_0", BlockID: "a", Value: "x.y"}))}}.Encode()))
	f.Add([]byte(url.Values{"payload": {string(submitPayload("U1", "t2", "m.n", "123456"))}}.Encode()))
	f.Add([]byte("command=%2Funlock&user_id=U1&team_id=T1&trigger_id=t3"))
	f.Add([]byte(`{"type":"event_callback","event_id":"E","event":{"type":"message","blocks":[{"type":"nope"}]}}`))
	f.Add([]byte("payload=%7B%22type%22%3A%22view_submission%22%2C%22view%22%3A7%7D"))
	e := newEnv(f, false, func(_ *config.Config, o *Options) { o.SubmitWait = time.Millisecond })
	e.spy.e = nopEngine{}
	h := e.b.Handler()
	f.Fuzz(func(t *testing.T, data []byte) {
		_, evErr := parseEvent(data)
		_, icErr := parseInteraction(data)
		_, cmdErr := parseCommand(data)
		for _, c := range []struct {
			path, ctype string
			refused     bool
		}{
			{PathEvents, "application/json", evErr != nil},
			{PathInteractivity, "application/x-www-form-urlencoded", icErr != nil},
			{PathCommands, "application/x-www-form-urlencoded", cmdErr != nil},
		} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request(http.MethodPost, c.path, c.ctype, data, testSecret, time.Now().Unix(), true))
			if c.refused && w.Code == http.StatusOK {
				t.Fatalf("%s: refused payload answered 200", c.path)
			}
		}
	})
}

// nopEngine answers every turn with nothing.
type nopEngine struct{}

func (nopEngine) Handle(context.Context, engine.Turn) engine.Reply { return engine.Reply{} }
