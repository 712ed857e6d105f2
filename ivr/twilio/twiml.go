package twilio

import (
	"bytes"
	"slices"
	"sync"

	"github.com/twilio/twilio-go/twiml"
)

// twimlBufs are reused answer buffers: a call's answer is a few hundred
// bytes, written once per turn.
var twimlBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encodeTwiML writes the TwiML document of verbs to b: the elements,
// attributes and text twiml.Voice writes, without building an etree
// document per answer (the phone turn's hot path). <Say>, the verb of
// every answer, is written directly; other verbs through the twiml.Element
// interface. Attributes are sorted, so the same verbs give the same bytes.
func encodeTwiML(b *bytes.Buffer, verbs []twiml.Element) {
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response>`)
	for _, v := range verbs {
		encodeElement(b, v)
	}
	b.WriteString(`</Response>`)
}

func encodeElement(b *bytes.Buffer, e twiml.Element) {
	if s, ok := e.(*twiml.VoiceSay); ok && s.Loop == "" && len(s.InnerElements) == 0 && len(s.OptionalAttributes) == 0 {
		b.WriteString("<Say")
		// Sorted like the general case: language before voice.
		writeAttr(b, "language", s.Language)
		writeAttr(b, "voice", s.Voice)
		b.WriteByte('>')
		escapeXML(b, s.Message, false)
		b.WriteString("</Say>")
		return
	}
	name := e.GetName()
	b.WriteByte('<')
	b.WriteString(name)
	opt, params := e.GetAttr()
	var keysBuf [32]string
	keys := keysBuf[:0]
	attrs := make(map[string]string, len(opt)+len(params))
	for _, m := range []map[string]string{opt, params} {
		for k, v := range m {
			if v == "" {
				continue
			}
			k = lowerFirst(k)
			if _, dup := attrs[k]; !dup {
				keys = append(keys, k)
			}
			attrs[k] = v // params win over optional attributes, as in twiml.Voice
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		writeAttr(b, k, attrs[k])
	}
	inner := e.GetInnerElements()
	text := e.GetText()
	if text == "" && len(inner) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	escapeXML(b, text, false)
	for _, c := range inner {
		encodeElement(b, c)
	}
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}

func writeAttr(b *bytes.Buffer, k, v string) {
	if v == "" {
		return
	}
	b.WriteByte(' ')
	b.WriteString(k)
	b.WriteString(`="`)
	escapeXML(b, v, true)
	b.WriteByte('"')
}

// lowerFirst is twiml's attribute naming: the field name, first letter lower.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// escapeXML writes s with the XML special characters escaped (and quotes in
// attribute values).
func escapeXML(b *bytes.Buffer, s string, attr bool) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			if !attr {
				continue
			}
			esc = "&quot;"
		case '\'':
			if !attr {
				continue
			}
			esc = "&apos;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.WriteString(s[last:])
}
