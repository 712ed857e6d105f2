package app_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/plugins"
)

// TestQuestionsFromConfig enables security questions by configuration and
// checks that an enrolled user is asked them during a chat reset.
func TestQuestionsFromConfig(t *testing.T) {
	cfg, probs := config.Parse([]byte(`mode: demo
store: {type: memory}
directories: [{name: demo, type: memory}]
notify: {outbox: true, sms: {provider: outbox}}
factors:
  enabled: [totp, sms, email, questions]
  require: {reset: {default: 1}}
  policy: {phone_alone: true}
  questions: {ask: 1, min_enrolled: 2, ask_in: [reset], catalog: [{id: pet, message_id: question.first_pet}, {id: city, message_id: question.birth_city}]}
`), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	send := func(user string, in engine.Input) engine.Reply {
		return a.Engine.Handle(context.Background(), engine.Turn{Channel: "teams", ChannelUser: user, Input: in})
	}
	code := func() secret.String {
		d, _ := a.Outbox.Last()
		return secret.New(regexp.MustCompile(`\d{6}`).FindString(d.Message.Body.Reveal()))
	}
	txt := func(s string) engine.Input { return engine.Input{Kind: engine.InputText, Value: secret.New(s)} }
	ans := func(s string) engine.Input { return engine.Input{Kind: engine.InputSecret, Value: secret.New(s)} }
	send("A", engine.Input{Kind: engine.InputStart, Flow: "enroll"})
	send("A", txt("fhaddad"))
	send("A", engine.Input{Kind: engine.InputChoice, Choice: "sms"})
	send("A", engine.Input{Kind: engine.InputText, Value: code()})
	send("A", engine.Input{Kind: engine.InputChoice, Choice: "enroll_questions"})
	send("A", ans("Whiskers"))
	if r := send("A", ans("Beirut")); r.State != "done" {
		t.Fatalf("enroll ended in %s", r.State)
	}
	send("B", engine.Input{Kind: engine.InputStart, Flow: "reset"})
	send("B", txt("fhaddad"))
	send("B", engine.Input{Kind: engine.InputChoice, Choice: "sms"})
	r := send("B", engine.Input{Kind: engine.InputText, Value: code()})
	if r.State != "verify_questions" {
		t.Fatalf("questions not asked: %s", r.State)
	}
	answer := map[string]string{"question.first_pet": "whiskers", "question.birth_city": "BEIRUT"}[r.Last().MessageID]
	if r := send("B", ans(answer)); r.State != "new_password" {
		t.Fatalf("after the answer: %s", r.State)
	}
}
