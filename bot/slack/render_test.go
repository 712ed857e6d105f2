package slack

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/engine"
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
