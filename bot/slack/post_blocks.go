package slack

import (
	"encoding/json"
	"encoding/json/jsontext"

	"github.com/slack-go/slack"
)

// appendBlocks appends blocks as a JSON array equal in meaning to what
// json.Marshal writes (not byte for byte: <, > and & are not escaped). The
// blocks of a turn's reply — sections, actions of buttons, contexts of text
// — are written by hand: through slack-go's MarshalJSON methods each
// element list is marshalled, then validated and copied again by the outer
// encoder, about a tenth of a Slack turn's CPU under load. render's own
// textBlock and buttonsBlock write themselves. Any other block, or one
// using a field not written here, goes through json.Marshal.
func appendBlocks(dst []byte, blocks []slack.Block) ([]byte, error) {
	dst = append(dst, '[')
	for i, b := range blocks {
		if i > 0 {
			dst = append(dst, ',')
		}
		switch v := b.(type) {
		case *textBlock:
			dst = v.appendJSON(dst)
			continue
		case *buttonsBlock:
			dst = v.appendJSON(dst)
			continue
		case *slack.SectionBlock:
			if v != nil && len(v.Fields) == 0 && v.Accessory == nil {
				dst = appendSection(dst, v)
				continue
			}
		case *slack.ActionBlock:
			if v != nil && v.Elements != nil && plainButtons(v.Elements.ElementSet) {
				dst = appendActions(dst, v)
				continue
			}
		case *slack.ContextBlock:
			if v != nil && textOnly(v.ContextElements.Elements) {
				dst = appendContext(dst, v)
				continue
			}
		}
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		dst = append(dst, j...)
	}
	return append(dst, ']'), nil
}

// plainButtons reports whether every element is a button without a
// confirmation dialog or a visibility list.
func plainButtons(els []slack.BlockElement) bool {
	for _, e := range els {
		b, ok := e.(*slack.ButtonBlockElement)
		if !ok || b == nil || b.Confirm != nil || len(b.VisibleToUserIDs) > 0 {
			return false
		}
	}
	return true
}

// textOnly reports whether every element is a text object.
func textOnly(els []slack.MixedElement) bool {
	for _, e := range els {
		if t, ok := e.(*slack.TextBlockObject); !ok || t == nil {
			return false
		}
	}
	return true
}

// quote appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// json.Marshal writes it; the error saying so is not one here.
func quote(dst []byte, s string) []byte {
	dst, _ = jsontext.AppendQuote(dst, s)
	return dst
}

// field appends ,"name":"value", or nothing for an empty value (omitempty).
func field(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(append(append(dst, ",\""...), name...), "\":"...)
	return quote(dst, value)
}

func appendText(dst []byte, t *slack.TextBlockObject) []byte {
	if t == nil {
		return append(dst, "null"...)
	}
	dst = quote(append(dst, `{"type":`...), t.Type)
	dst = quote(append(dst, `,"text":`...), t.Text)
	if t.Emoji != nil {
		if *t.Emoji {
			dst = append(dst, `,"emoji":true`...)
		} else {
			dst = append(dst, `,"emoji":false`...)
		}
	}
	if t.Verbatim {
		dst = append(dst, `,"verbatim":true`...)
	}
	return append(dst, '}')
}

func appendSection(dst []byte, s *slack.SectionBlock) []byte {
	dst = quote(append(dst, `{"type":`...), string(s.Type))
	if s.Text != nil {
		dst = appendText(append(dst, `,"text":`...), s.Text)
	}
	dst = field(dst, "block_id", s.BlockID)
	if s.Expand {
		dst = append(dst, `,"expand":true`...)
	}
	return append(dst, '}')
}

func appendActions(dst []byte, a *slack.ActionBlock) []byte {
	dst = quote(append(dst, `{"type":`...), string(a.Type))
	dst = field(dst, "block_id", a.BlockID)
	dst = append(dst, `,"elements":`...)
	if a.Elements.ElementSet == nil {
		return append(dst, "null}"...)
	}
	dst = append(dst, '[')
	for i, e := range a.Elements.ElementSet {
		if i > 0 {
			dst = append(dst, ',')
		}
		b := e.(*slack.ButtonBlockElement)
		dst = append(dst, '{')
		if b.Type != "" {
			dst = quote(append(dst, `"type":`...), string(b.Type))
			dst = append(dst, ',')
		}
		dst = appendText(append(dst, `"text":`...), b.Text)
		dst = field(dst, "action_id", b.ActionID)
		dst = field(dst, "url", b.URL)
		dst = field(dst, "value", b.Value)
		dst = field(dst, "style", string(b.Style))
		dst = field(dst, "accessibility_label", b.AccessibilityLabel)
		dst = field(dst, "agent_prompt", b.AgentPrompt)
		dst = field(dst, "agent_prompt_display", b.AgentPromptDisplay)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

func appendContext(dst []byte, c *slack.ContextBlock) []byte {
	dst = quote(append(dst, `{"type":`...), string(c.Type))
	dst = field(dst, "block_id", c.BlockID)
	dst = append(dst, `,"elements":`...)
	if c.ContextElements.Elements == nil {
		return append(dst, "null}"...)
	}
	dst = append(dst, '[')
	for i, e := range c.ContextElements.Elements {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendText(dst, e.(*slack.TextBlockObject))
	}
	return append(dst, "]}"...)
}

// textBlock is what section builds, a section of plain text with emoji,
// held as its (clipped) text alone: a reply's sections need none of
// slack-go's structure, which costs three allocations each. Its JSON is
// byte for byte what appendBlocks writes for the section.
type textBlock struct{ text string }

func (*textBlock) BlockType() slack.MessageBlockType { return slack.MBTSection }
func (*textBlock) ID() string                        { return "" }

// MarshalJSON is for anything that marshals the blocks (slack-go calls,
// tests); chat.postMessage goes through appendBlocks.
func (t *textBlock) MarshalJSON() ([]byte, error) { return t.appendJSON(nil), nil }

func (t *textBlock) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"section","text":{"type":"plain_text","text":`...)
	return append(quote(dst, t.text), `,"emoji":true}}`...)
}

// buttonsBlock is an actions block of plain buttons, as slack-go's
// NewActionBlock of NewButtonBlockElement with a plain text label (emoji
// on) builds it, held as the strings its JSON needs: a reply's buttons are
// most of its allocations through slack-go. Its JSON is byte for byte what
// appendBlocks writes for that ActionBlock.
type buttonsBlock struct {
	id      string
	buttons []replyButton
}

// replyButton is one button of a buttonsBlock; empty fields are left out, as
// slack-go's omitempty does. The label is clipped already.
type replyButton struct {
	actionID, label, value string
	style                  slack.Style
}

func (*buttonsBlock) BlockType() slack.MessageBlockType { return slack.MBTAction }
func (a *buttonsBlock) ID() string                      { return a.id }

// MarshalJSON is for anything that marshals the blocks (slack-go calls,
// tests); chat.postMessage goes through appendBlocks.
func (a *buttonsBlock) MarshalJSON() ([]byte, error) { return a.appendJSON(nil), nil }

func (a *buttonsBlock) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"actions"`...)
	dst = field(dst, "block_id", a.id)
	if a.buttons == nil {
		return append(dst, `,"elements":null}`...)
	}
	dst = append(dst, `,"elements":[`...)
	for i, b := range a.buttons {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"type":"button","text":{"type":"plain_text","text":`...)
		dst = append(quote(dst, b.label), `,"emoji":true}`...)
		dst = field(dst, "action_id", b.actionID)
		dst = field(dst, "value", b.value)
		dst = field(dst, "style", string(b.style))
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}
