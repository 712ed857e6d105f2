package messages

// spelled are the arguments read out character by character in voice
// variants: reference IDs and codes are heard, not read, so "4821" must be
// "4, 8, 2, 1" rather than "four thousand eight hundred twenty-one".
var spelled = []string{"ref", "code"}

// Text renders id for chat (voice false) or for the ear (voice true). In voice
// variants the ref and code arguments are spelled out as the
// language's catalog says (Language.Digits, Language.SpellSeparator).
func (c *Catalog) Text(locale, id string, voice bool, args map[string]string) string {
	if !voice || len(args) == 0 {
		return c.Render(locale, id, variant(voice), args)
	}
	spoken := make(map[string]string, len(args))
	for k, v := range args {
		spoken[k] = v
	}
	lang := c.Lang(locale)
	for _, k := range spelled {
		if v, ok := spoken[k]; ok {
			spoken[k] = lang.spell(v)
		}
	}
	return c.Render(locale, id, Voice, spoken)
}

func variant(voice bool) Variant {
	if voice {
		return Voice
	}
	return Chat
}
