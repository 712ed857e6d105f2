package engine

import "strings"

// Words that leave the flow or ask for a person from any state, in every
// catalogued language. They are matched as the whole input, so a sentence that
// merely contains "stop" does not end a reset.
var (
	cancelWords   = map[string]bool{"cancel": true, "stop": true, "quit": true, "exit": true, "cancelar": true, "salir": true}
	escalateWords = map[string]bool{"agent": true, "human": true, "person": true, "helpdesk": true, "help desk": true,
		"operator": true, "agente": true, "persona": true, "humano": true}
)

// Choice IDs that adapters may put on buttons present in every step.
const (
	ChoiceCancel   = "cancel"
	ChoiceEscalate = "escalate"
	// DigitsEscalate on a keypad asks for a person; DigitsRepeat repeats the prompt.
	DigitsEscalate = "0"
	DigitsRepeat   = "*"
)

// globalEvent returns the event an input fires whatever the state is, or "".
func globalEvent(in Input, voice bool) string {
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
		w := strings.Join(strings.Fields(strings.ToLower(in.Value.Reveal())), " ")
		w = strings.Trim(w, ".!?¡¿ ")
		if cancelWords[w] {
			return EventCancel
		}
		if escalateWords[w] {
			return EventEscalate
		}
	case InputDigits:
		if voice && in.Value.Reveal() == DigitsEscalate {
			return EventEscalate
		}
	}
	return ""
}

// isRepeat reports whether the input asks to hear the prompt again.
func isRepeat(in Input) bool {
	return in.Kind == InputDigits && in.Value.Reveal() == DigitsRepeat
}
