package engine_test

import (
	"context"
	"testing"

	"github.com/looplab/fsm"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/store/memory"
)

// codeFlow asks for a six-digit code with a side choice ("2": a text
// message instead); the choice challenges again, entering the same state.
func codeFlow(name string, keywords ...string) *engine.Flow {
	all := []string{"code"}
	return &engine.Flow{Name: name, Initial: "code", Keywords: keywords, MessageID: "flow." + name,
		Events: fsm.Events{
			{Name: "again", Src: all, Dst: "code"},
			{Name: "ok", Src: all, Dst: "done"},
			{Name: engine.EventCancel, Src: all, Dst: "done"},
			{Name: engine.EventEscalate, Src: all, Dst: "done"},
			{Name: engine.EventExpire, Src: all, Dst: "done"},
		},
		Steps: map[string]engine.Step{
			"code": {
				Prompt: func(_ context.Context, c *engine.Ctx) {
					c.Say("code.prompt").Expect = engine.Expect{Kind: engine.ExpectDigits, MinDigits: 6, MaxDigits: 6,
						Choices: []engine.Choice{{ID: "sms", MessageID: "factor.sms", Key: 2}}}
				},
				Handle: func(_ context.Context, c *engine.Ctx, in engine.Input) (string, error) {
					switch {
					case in.Kind == engine.InputChoice && in.Choice == "sms":
						c.Say("picked.sms")
						return "again", nil
					case in.Value.Reveal() == "123456":
						return "ok", nil
					}
					c.Say("wrong")
					return "", nil
				}},
			"done": {Final: true, Prompt: func(_ context.Context, c *engine.Ctx) { c.Say("done") }},
		},
	}
}

func fastEngine(t *testing.T) *engine.Engine {
	t.Helper()
	words := engine.Words{Keywords: map[string][]string{
		"unlock": {"locked out", "i'm locked out"},
		"reset":  {"can't log in", "forgot my password"},
	}}
	eng, err := engine.New(engine.Options{Store: memory.New(), Words: words, Flows: []*engine.Flow{
		codeFlow("reset", "password", "forgot"), codeFlow("unlock", "unlock", "locked"), codeFlow("enroll", "authenticator"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestPhrasesRoute: keywords and phrases match whole consecutive words, the
// longest match wins, a typographic apostrophe is a plain one, and text
// that matches nothing shows the menu.
func TestPhrasesRoute(t *testing.T) {
	eng := fastEngine(t)
	for i, tc := range []struct{ text, flow string }{
		{"I'm locked out of my password", "unlock"}, // "locked out" (2 words) beats "password"
		{"I forgot my password!", "reset"},
		{"I can’t log in", "reset"},
		{"/unlock", "unlock"},
		{"AUTHENTICATOR", "enroll"},
		{"out locked", "unlock"}, // "locked" alone
		{"passwords", ""},        // whole words only
		{"hello there", ""},
	} {
		r := eng.Handle(context.Background(), engine.Turn{Channel: "console", ChannelUser: "P" + string(rune('a'+i)), Input: text(tc.text)})
		if r.Flow != tc.flow {
			t.Errorf("%q started %q, want %q", tc.text, r.Flow, tc.flow)
		}
		if tc.flow == "" && r.Last().MessageID != engine.MsgMenu {
			t.Errorf("%q: %s, want the menu", tc.text, ids(r))
		}
	}
}

// TestSideChoiceBesideACode: one key that cannot be the code picks the side
// choice with that digit; the code itself is not mistaken for a choice; a
// button of the earlier visit of the same state is stale once the state was
// entered again.
func TestSideChoiceBesideACode(t *testing.T) {
	eng := fastEngine(t)
	ctx := context.Background()
	send := func(in engine.Input) engine.Reply {
		return eng.Handle(ctx, engine.Turn{Channel: "voice", ChannelUser: "C1", Input: in})
	}
	first := send(engine.Input{Kind: engine.InputStart, Flow: "reset"})
	if r := send(digits("7")); ids(r) != "wrong,code.prompt" {
		t.Fatalf("a key that is no choice: %s", ids(r))
	}
	if r := send(digits("2")); ids(r) != "picked.sms,code.prompt" {
		t.Fatalf("key 2 beside the code: %s", ids(r))
	}
	stale := send(engine.Input{Kind: engine.InputChoice, Choice: "sms", State: first.Step})
	if ids(stale) != engine.MsgStale+",code.prompt" {
		t.Fatalf("a button of the first visit acted: %s", ids(stale))
	}
	if r := send(digits("123456")); r.State != "done" {
		t.Fatalf("the code: %s %s", r.State, ids(r))
	}
}
