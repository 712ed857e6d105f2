package engine

import (
	"slices"
	"strings"
	"unicode"
)

// Words are the typed words the engine recognises in every step, in every
// language at once. They come from the message catalogs (the "language:"
// block of each catalog file, messages.Catalog.Words), so the engine holds no
// language of its own. Words are matched as the whole input, folded to lower
// case without surrounding punctuation, so a sentence that merely contains
// "stop" does not end a reset.
type Words struct {
	Cancel, Agent, Help map[string]bool
	// Switch maps a word ("français") to the language it selects ("fr").
	Switch map[string]string
	// Keywords maps a flow name to the words and phrases that start it
	// from free text ("locked out", "forgot my password"), added to the
	// flow's own Flow.Keywords. A phrase matches as consecutive words of
	// the input; the longest match wins, so "forgot my authenticator"
	// can start another flow than "forgot".
	Keywords map[string][]string
}

// Choice IDs that adapters may put on buttons present in every step.
const (
	ChoiceCancel   = "cancel"
	ChoiceEscalate = "escalate"
	// DigitsEscalate on a keypad asks for a person; DigitsRepeat repeats the prompt.
	DigitsEscalate = "0"
	DigitsRepeat   = "*"
)

// fold normalizes typed input for word matching (as messages.Fold does).
func fold(s string) string {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
}

// globalEvent returns the event an input fires whatever the state is, or "".
func (e *Engine) globalEvent(in Input, voice bool) string {
	switch in.Kind {
	case InputCancel:
		return EventCancel
	case InputChoice:
		switch in.Choice {
		case ChoiceCancel:
			return EventCancel
		case ChoiceEscalate:
			return EventEscalate
		}
	case InputText:
		w := fold(in.Value.Reveal())
		if e.opt.Words.Cancel[w] {
			return EventCancel
		}
		if e.opt.Words.Agent[w] {
			return EventEscalate
		}
	case InputDigits:
		if voice && in.Value.Reveal() == DigitsEscalate {
			return EventEscalate
		}
	}
	return ""
}

// switchTo returns the language a typed switch word selects, or "".
func (e *Engine) switchTo(in Input) string {
	if in.Kind != InputText {
		return ""
	}
	return e.opt.Words.Switch[fold(in.Value.Reveal())]
}

// isHelp reports whether the input is a help word.
func (e *Engine) isHelp(in Input) bool {
	return in.Kind == InputText && e.opt.Words.Help[fold(in.Value.Reveal())]
}

// keywords returns the words that start f: its own and the catalogs'.
func (e *Engine) keywords(f *Flow) []string {
	return append(append([]string(nil), f.Keywords...), e.opt.Words.Keywords[f.Name]...)
}

// byPhrase returns the flow whose keyword or phrase matches the most
// consecutive words of text (ties: menu order), or nil.
func (e *Engine) byPhrase(text string) *Flow {
	words := tokens(text)
	var best *Flow
	bestLen := 0
	for _, f := range e.order {
		for _, kw := range e.phrases[f] {
			if len(kw) > bestLen && (containsRun(words, kw) || (len(kw) == 1 && slices.Contains(words, "/"+kw[0]))) {
				best, bestLen = f, len(kw)
			}
		}
	}
	return best
}

// tokens splits text into lower-case words without surrounding punctuation;
// a typographic apostrophe is read as a plain one ("can’t" is "can't").
func tokens(text string) []string {
	text = strings.ReplaceAll(strings.ToLower(text), "’", "'")
	var out []string
	for _, w := range strings.Fields(text) {
		w = strings.TrimFunc(w, func(r rune) bool { return unicode.IsPunct(r) && r != '/' })
		w = strings.TrimRight(w, "'")
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// containsRun reports whether run appears as consecutive words of words.
func containsRun(words, run []string) bool {
	if len(run) == 0 {
		return false
	}
	for i := 0; i+len(run) <= len(words); i++ {
		if slices.Equal(words[i:i+len(run)], run) {
			return true
		}
	}
	return false
}

// isRepeat reports whether the input asks to hear the prompt again.
func isRepeat(in Input) bool {
	return in.Kind == InputDigits && in.Value.Reveal() == DigitsRepeat
}

// checkLocale serves a turn whose locale has no catalog in the default
// language, and logs each such locale once.
func (e *Engine) checkLocale(t *Turn) {
	if t.Locale == "" || e.opt.Supports == nil || e.opt.Supports(t.Locale) {
		return
	}
	if _, seen := e.unsupported.LoadOrStore(strings.ToLower(t.Locale), true); !seen {
		e.opt.Log.Info("locale has no message catalog; using the default language", "locale", t.Locale)
	}
	t.Locale, t.LocaleChosen = "", false
}

// PreferLocale sets the conversation's language to the directory's
// preferred language of the account (flows call it once the account is
// known), unless the user chose a language or the locale has no catalog.
func (c *Ctx) PreferLocale(locale string) {
	s := c.Session
	if locale == "" || s == nil || s.LocaleBy > LocaleByDirectory ||
		(c.eng.opt.Supports != nil && !c.eng.opt.Supports(locale)) {
		return
	}
	s.Locale, s.LocaleBy = locale, LocaleByDirectory
}

// localeBy ranks the turn's locale: the user's choice, or the channel's.
func (t *Turn) localeBy() LocaleSource {
	if t.LocaleChosen {
		return LocaleByUser
	}
	return LocaleByChannel
}
