// Package transcript measures golden conversation transcripts: how many
// actions a person takes in each conversation. It reads the format every
// golden file of the project shares — a line "> …" is something the person
// did, and the flows' transcripts close each conversation with a line
// "= flow/state ended=true" — so flows, the chat adapters and the phone line
// (ivr/twilio) count the same way.
//
// An action is one thing the person does: a message, a click, a submitted
// form, a keypad entry ended by the pound key or by its length. What the
// platform does by itself (a call coming in, a hang-up, silence) is not one.
package transcript

import (
	"bufio"
	"strings"
)

// Run is one conversation of a transcript.
type Run struct {
	// Flow and State are where the conversation ended ("reset", "done"),
	// empty when the transcript does not say (a phone call's TwiML).
	Flow, State string
	// Actions counts what the person did.
	Actions int
	// Inputs are the action lines, without the "> " (codes are already
	// masked in golden files).
	Inputs []string
}

// notActions are the input lines that the platform, not the person, made.
var notActions = []string{"incoming", "hangup", "hang up", "timeout", "silence", "status", "cancel"}

// IsAction reports whether an input line (without "> ") is a person's action.
func IsAction(input string) bool {
	w := strings.ToLower(strings.TrimSpace(input))
	for _, n := range notActions {
		if w == n || strings.HasPrefix(w, n+" ") {
			return false
		}
	}
	return w != ""
}

// Runs splits a transcript into conversations and counts each one's
// actions. A line "= flow/state ended=true" closes a conversation, and so
// does the state line after the optional rating question of a completed
// flow ("< rate.ask", then "= reset/done ended=false"): the work is done,
// answering is not an action the flow needs. Actions after the last such
// line form a last run with no flow (a phone call).
func Runs(text string) []Run {
	var out []Run
	cur := Run{}
	rated := false // the last output was the rating question
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "> "):
			in := strings.TrimPrefix(line, "> ")
			if IsAction(in) {
				cur.Actions++
				cur.Inputs = append(cur.Inputs, in)
			}
		case strings.HasPrefix(line, "< "):
			rated = strings.HasPrefix(line, "< rate.ask")
		case strings.HasPrefix(line, "= ") && (strings.HasSuffix(line, "ended=true") || rated):
			rated = false
			where := strings.Fields(strings.TrimPrefix(line, "= "))[0]
			cur.Flow, cur.State, _ = strings.Cut(where, "/")
			out = append(out, cur)
			cur = Run{}
		}
	}
	if cur.Actions > 0 {
		out = append(out, cur)
	}
	return out
}

// Count returns the actions of the first conversation of the transcript
// that ended in flow (any flow when flow is ""), and whether there was one.
func Count(text, flow string) (int, bool) {
	for _, r := range Runs(text) {
		if flow == "" || r.Flow == flow {
			return r.Actions, true
		}
	}
	return 0, false
}
