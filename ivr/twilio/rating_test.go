package twilio_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/messages"
)

// ratingWords counts the words of the optional rating question (the
// question and its two "press" lines, in any catalog language) spoken in
// docs: speech targets time a call to its goodbye, and a caller skips the
// question by hanging up.
func ratingWords(t *testing.T, docs []string) int {
	t.Helper()
	cat, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	asks := map[string]bool{}
	for _, l := range cat.Languages() {
		asks[cat.Text(l, engine.MsgRateAsk, true, nil)] = true
	}
	n := 0
	for _, d := range docs {
		tw := parseTwiML(t, d)
		if tw.Gather == nil {
			continue
		}
		says := tw.Gather.Say
		for i, s := range says {
			if asks[strings.TrimSpace(s.Text)] {
				for _, r := range says[i:min(i+3, len(says))] {
					n += len(strings.Fields(r.Text))
				}
			}
		}
	}
	return n
}

// rated reports whether d asks the rating question.
func rated(t *testing.T, d string) bool { return ratingWords(t, []string{d}) > 0 }
