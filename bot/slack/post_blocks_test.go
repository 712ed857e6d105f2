package slack

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/slack-go/slack"
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
}
