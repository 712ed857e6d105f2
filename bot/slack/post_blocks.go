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
// encoder, about a tenth of a Slack turn's CPU under load. Any other block,
// or one using a field not written here, goes through json.Marshal.
func appendBlocks(dst []byte, blocks []slack.Block) ([]byte, error) {
	dst = append(dst, '[')
	for i, b := range blocks {
		if i > 0 {
			dst = append(dst, ',')
		}
		switch v := b.(type) {
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
