package slack

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
)

var update = flag.Bool("update", false, "rewrite golden files")

// idRenderer renders a message as its ID and arguments, so the golden file
// pins the Block Kit structure, not the catalog's wording.
type idRenderer struct{}

func (idRenderer) Text(locale, id string, _ bool, args map[string]string) string {
	if len(args) == 0 {
		return locale + ":" + id
	}
	b, _ := json.Marshal(args)
	return locale + ":" + id + " " + string(b)
}

// TestRenderGolden pins the Block Kit rendering of the neutral outputs;
// token values (signed, time-dependent) are masked. Run with -update after
// an intended change.
func TestRenderGolden(t *testing.T) {
	e := newEnv(t, false)
	e.b.o.Messages = idRenderer{}
	cases := map[string][]engine.Output{
		"choice": {{MessageID: "factor.choose", Expect: engine.Expect{Kind: engine.ExpectChoice,
			Choices: []engine.Choice{{ID: "sms", MessageID: "factor.sms"}, {ID: "email", MessageID: "factor.email"}}}}},
		"code":     {{MessageID: "verify.ok_more"}, {MessageID: "code.prompt.sms", Sensitive: true, Expect: engine.Expect{Kind: engine.ExpectDigits, MinDigits: 6, MaxDigits: 8}}},
		"password": {{MessageID: "password.rejected.too_short", Args: map[string]string{"min": "12"}, Error: true}, {MessageID: "password.prompt", Sensitive: true, Expect: engine.Expect{Kind: engine.ExpectSecret, Confirm: true}}},
		"done":     {{MessageID: "reset.done", Args: map[string]string{"ref": "ABCD1234"}}},
		"question": {{MessageID: "question.first_pet", Sensitive: true, Expect: engine.Expect{Kind: engine.ExpectSecret, FieldID: "questions.field"}}},
	}
	got := map[string]any{}
	for name, outs := range cases {
		blocks, text := e.b.render("en", "T1:U1", "state", outs)
		got[name] = map[string]any{"text": text, "blocks": blocks}
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`"value": "[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"`).ReplaceAll(b, []byte(`"value": "<token>"`))
	path := filepath.Join("testdata", "render.golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != string(b)+"\n" {
		t.Errorf("rendering changed (run with -update and review the diff):\n%s", b)
	}
}

// TestAnswerModal: a security question opens a one-field modal labelled as an
// answer, whose submission is a masked input.
func TestAnswerModal(t *testing.T) {
	e := newEnv(t, false)
	e.b.o.Messages = idRenderer{}
	v := e.b.modal("en", "T1:U1", "verify_questions", kindAnswer, nil)
	b, _ := json.Marshal(v)
	if len(v.Blocks.BlockSet) != 1 || !strings.Contains(string(b), "chat.form.answer_t") || !strings.Contains(string(b), "questions.field") {
		t.Fatalf("modal %s", b)
	}
}

// renderSlackGo is render as it was written with slack-go's constructors,
// before the reply's own block types: the reference for
// TestRenderAsWithSlackGo.
func (b *Bot) renderSlackGo(loc, key, state string, outs []engine.Output) ([]slack.Block, string) {
	var blocks []slack.Block
	var texts []string
	for i, o := range outs {
		text := b.o.Messages.Text(loc, o.MessageID, false, o.Args)
		if o.Error {
			text = "⚠️ " + text
		}
		texts = append(texts, text)
		blocks = append(blocks, section(text))
		if a := o.Attachment; a != nil && a.Kind == attachmentLink {
			blocks = append(blocks, b.linkButton(loc, i, a.Text.Reveal()))
		}
		var els []slack.BlockElement
		var extra []slack.Block
		if kind, label := modalKind(o.Expect); kind != "" {
			btn := b.button(loc, actionOpen, label, b.sign(purposeOpen, key, state, kind))
			btn.Style = slack.StylePrimary
			els = append(els, btn)
			if kind == kindCode {
				extra = append(extra, slack.NewContextBlock("", slack.NewTextBlockObject(slack.PlainTextType,
					b.text(loc, "slack.code_hint"), false, false)))
			}
		}
		els = append(els, b.choiceButtons(loc, key, state, o.Expect.Choices, 25-len(els))...)
		if len(els) > 0 {
			blocks = append(append(blocks, slack.NewActionBlock("act"+strconv.Itoa(i), els...)), extra...)
		}
	}
	return blocks, strings.Join(texts, "\n")
}

// TestRenderAsWithSlackGo: the blocks JSON of chat.postMessage and the
// fallback text are byte for byte what the slack-go blocks gave, for every
// kind of output (choices, a code, a password with side choices, a link,
// more choices than Block Kit allows, long labels, several outputs).
func TestRenderAsWithSlackGo(t *testing.T) {
	e := newEnv(t, false)
	e.b.o.Messages = idRenderer{}
	// Tokens carry their expiry: both renderings sign at the same instant.
	at := time.Now()
	e.b.now = func() time.Time { return at }
	many := make([]engine.Choice, 30)
	for i := range many {
		many[i] = engine.Choice{ID: "c" + strconv.Itoa(i), MessageID: strings.Repeat("long.label.", i)}
	}
	side := []engine.Choice{{ID: "sms", MessageID: "factor.sms"}, {ID: "other_account", MessageID: "factor.email"}}
	cases := map[string][]engine.Output{
		"menu": {{MessageID: engine.MsgMenu, Expect: engine.Expect{Kind: engine.ExpectChoice,
			Choices: []engine.Choice{{ID: "flow:reset", MessageID: "flow.reset"}, {ID: "flow:unlock", MessageID: "flow.unlock"}}}}},
		"code":      {{MessageID: "verify.ok_more"}, {MessageID: "code.prompt.sms", Expect: engine.Expect{Kind: engine.ExpectDigits, MinDigits: 6, MaxDigits: 8, Choices: side}}},
		"password":  {{MessageID: "password.rejected", Args: map[string]string{"min": "12 <&>"}, Error: true}, {MessageID: "password.prompt", Expect: engine.Expect{Kind: engine.ExpectSecret, Confirm: true}}},
		"link":      {{MessageID: "enroll.totp.link", Attachment: &engine.Attachment{Kind: attachmentLink, Text: secret.New("https://resetbot.test/e/x?a=1&b=2")}}},
		"many":      {{MessageID: "pick", Expect: engine.Expect{Kind: engine.ExpectChoice, Choices: many}}},
		"many side": {{MessageID: "pick", Expect: engine.Expect{Kind: engine.ExpectText, Choices: many}}},
		"none":      nil,
		"long":      {{MessageID: strings.Repeat("é", 4000)}},
	}
	for name, outs := range cases {
		blocks, text := e.b.render("en", "T1:U1", "state@x", outs)
		wantBlocks, wantText := e.b.renderSlackGo("en", "T1:U1", "state@x", outs)
		got, err := appendBlocks(nil, blocks)
		if err != nil {
			t.Fatal(err)
		}
		want, err := appendBlocks(nil, wantBlocks)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) || text != wantText {
			t.Errorf("%s:\n got %s %q\nwant %s %q", name, got, text, want, wantText)
		}
	}
}
