package slack

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/engine"
)

// TestAppendBlocksMeansWhatMarshalWrites: the hand-written blocks JSON of
// chat.postMessage decodes to exactly what json.Marshal's decodes to, for
// the blocks replies are made of (every field they can set, awkward
// strings, empty and nil lists) and for blocks left to json.Marshal.
func TestAppendBlocksMeansWhatMarshalWrites(t *testing.T) {
	odd := "quote \" backslash \\ <b>&amp; tab\t nl\n é 🔑 \x01 bad\xffutf8"
	yes, no := true, false
	btn := slack.NewButtonBlockElement("choice_0", "signed.value", slack.NewTextBlockObject(slack.PlainTextType, odd, true, false))
	primary := slack.NewButtonBlockElement("open", "v", slack.NewTextBlockObject(slack.PlainTextType, "Enter", false, true))
	primary.Style = slack.StylePrimary
	link := &slack.ButtonBlockElement{Type: slack.METButton, Text: slack.NewTextBlockObject(slack.PlainTextType, "Open", false, false),
		URL: "https://example.org/x?a=1&b=<2>", AccessibilityLabel: odd, AgentPrompt: "p", AgentPromptDisplay: "d"}
	untyped := &slack.ButtonBlockElement{ActionID: "a"} // no type, nil text
	withConfirm := slack.NewButtonBlockElement("c", "v", slack.NewTextBlockObject(slack.PlainTextType, "x", false, false))
	withConfirm.Confirm = slack.NewConfirmationBlockObject(slack.NewTextBlockObject(slack.PlainTextType, "t", false, false),
		slack.NewTextBlockObject(slack.PlainTextType, "b", false, false), slack.NewTextBlockObject(slack.PlainTextType, "y", false, false), nil)
	for name, blocks := range map[string][]slack.Block{
		"reply": {section(odd), slack.NewActionBlock("act0", btn, primary, link, untyped),
			slack.NewContextBlock("", slack.NewTextBlockObject(slack.PlainTextType, odd, false, false))},
		"text fields": {
			slack.NewSectionBlock(&slack.TextBlockObject{Type: slack.MarkdownType, Text: "*x*", Emoji: &no, Verbatim: true}, nil, nil, slack.SectionBlockOptionBlockID("b1")),
			&slack.SectionBlock{Type: slack.MBTSection, Expand: true},
			slack.NewContextBlock("ctx", &slack.TextBlockObject{Type: slack.PlainTextType, Text: "y", Emoji: &yes}),
		},
		"empty and nil lists": {slack.NewActionBlock("a"), &slack.ActionBlock{Type: slack.MBTAction, Elements: &slack.BlockElements{}},
			&slack.ContextBlock{Type: slack.MBTContext}, &slack.ContextBlock{Type: slack.MBTContext, ContextElements: slack.ContextElements{Elements: []slack.MixedElement{}}}},
		"left to json.Marshal": {slack.NewDividerBlock(), nil, (*slack.SectionBlock)(nil),
			slack.NewSectionBlock(nil, []*slack.TextBlockObject{slack.NewTextBlockObject(slack.PlainTextType, "f", false, false)}, nil),
			slack.NewActionBlock("c", withConfirm, btn),
			slack.NewContextBlock("i", slack.NewImageBlockElement("https://example.org/i.png", "alt"))},
		"none": {},
	} {
		want, err := json.Marshal(blocks)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendBlocks([]byte("x"), blocks)
		if err != nil {
			t.Fatal(err)
		}
		var w, g any
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got[1:], &g); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, got[1:])
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %s\nwant %s", name, got[1:], want)
		}
	}
}

func BenchmarkReplyBlocks(b *testing.B) {
	blocks := []slack.Block{section("Hi, I can reset your password or unlock your account. What do you need?")}
	var els []slack.BlockElement
	for i := range 4 {
		els = append(els, slack.NewButtonBlockElement("choice_"+string(rune('0'+i)), "v1.eyJwIjoiYyIsInUiOiJUMTpVMSIsInMiOiJtZW51In0.c2lnbmF0dXJlc2lnbmF0dXJl",
			slack.NewTextBlockObject(slack.PlainTextType, "Reset my password", true, false)))
	}
	blocks = append(blocks, slack.NewActionBlock("act0", els...))
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(blocks)
		}
	})
	b.Run("appendBlocks", func(b *testing.B) {
		for b.Loop() {
			_, _ = appendBlocks(nil, blocks)
		}
	})
	// The same blocks as render builds them now.
	act := &buttonsBlock{id: "act0"}
	for i := range 4 {
		act.buttons = append(act.buttons, replyButton{actionID: "choice_" + string(rune('0'+i)), label: "Reset my password",
			value: "v1.eyJwIjoiYyIsInUiOiJUMTpVMSIsInMiOiJtZW51In0.c2lnbmF0dXJlc2lnbmF0dXJl"})
	}
	own := []slack.Block{&textBlock{text: "Hi, I can reset your password or unlock your account. What do you need?"}, act}
	b.Run("appendBlocks/own", func(b *testing.B) {
		for b.Loop() {
			_, _ = appendBlocks(nil, own)
		}
	})
	// As post.go calls it, into a 4 KB buffer.
	b.Run("appendBlocks/own/4KB", func(b *testing.B) {
		for b.Loop() {
			_, _ = appendBlocks(make([]byte, 0, 4<<10), own)
		}
	})
}

// BenchmarkReplyRender is a first contact's reply as a Slack turn builds
// it: the menu rendered (a section, signed buttons) and written as the
// blocks JSON of chat.postMessage into its 4 KB buffer.
func BenchmarkReplyRender(b *testing.B) {
	e := newEnv(b, false)
	outs := []engine.Output{{MessageID: engine.MsgMenu, Expect: engine.Expect{Kind: engine.ExpectChoice, Choices: []engine.Choice{
		{ID: "flow:reset", MessageID: "flow.reset"}, {ID: "flow:unlock", MessageID: "flow.unlock"},
		{ID: "flow:enroll", MessageID: "flow.enroll"}, {ID: "flow:unenroll", MessageID: "flow.unenroll"}}}}}
	buf := make([]byte, 0, 4<<10)
	b.ReportAllocs()
	for b.Loop() {
		blocks, _ := e.b.render("en", "T1:U1", "menu", outs)
		if _, err := appendBlocks(buf[:0], blocks); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReplyBlocksAsSlackGoBlocks: the reply's own section and buttons
// blocks are written byte for byte as appendBlocks writes the slack-go
// blocks they stand for (section; NewActionBlock of NewButtonBlockElement
// with a plain text label), by appendBlocks, and as json.Marshal writes
// those (through MarshalJSON), for awkward strings, empty fields and no
// list.
func TestReplyBlocksAsSlackGoBlocks(t *testing.T) {
	odd := "quote \" backslash \\ <b>&amp; tab\t nl\n é 🔑 \x01 bad\xffutf8 \u2028"
	label := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
	}
	primary := slack.NewButtonBlockElement("rb_open", "tok.sig", label("Enter"))
	primary.Style = slack.StylePrimary
	cases := []struct {
		name      string
		ours, sgo slack.Block
	}{
		{"section", &textBlock{text: odd}, section(odd)},
		{"empty section", &textBlock{}, section("")},
		{"buttons", &buttonsBlock{id: "act0", buttons: []replyButton{
			{actionID: "rb_open", label: "Enter", value: "tok.sig", style: slack.StylePrimary},
			{actionID: "rb_choice_0", label: odd, value: odd},
			{label: "no id, no value"},
		}}, slack.NewActionBlock("act0", primary, slack.NewButtonBlockElement("rb_choice_0", odd, label(odd)),
			slack.NewButtonBlockElement("", "", label("no id, no value")))},
		{"no block id", &buttonsBlock{buttons: []replyButton{{actionID: "a", label: "b", value: "c"}}},
			slack.NewActionBlock("", slack.NewButtonBlockElement("a", "c", label("b")))},
		{"no buttons", &buttonsBlock{id: "x"}, slack.NewActionBlock("x")},
	}
	for _, tc := range cases {
		want, err := appendBlocks(nil, []slack.Block{tc.sgo})
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendBlocks(nil, []slack.Block{tc.ours})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: appendBlocks\n got %s\nwant %s", tc.name, got, want)
		}
		m, err := json.Marshal([]slack.Block{tc.ours})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := json.Marshal([]slack.Block{tc.sgo})
		if err != nil {
			t.Fatal(err)
		}
		if string(m) != string(ms) {
			t.Errorf("%s: json.Marshal\n got %s\nwant %s", tc.name, m, ms)
		}
		if tc.ours.BlockType() != tc.sgo.BlockType() || tc.ours.ID() != tc.sgo.ID() {
			t.Errorf("%s: type %s id %q, want %s %q", tc.name, tc.ours.BlockType(), tc.ours.ID(), tc.sgo.BlockType(), tc.sgo.ID())
		}
	}
}
