package teams

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestAgentReadback: an agent starts a verification from the help-desk
// channel; the user's factors alone leave it "started"; a wrong number is
// refused, the number the DM showed (read back by the caller) verifies it,
// and the number never reaches a log, the audit trail or the agent's card.
func TestAgentReadback(t *testing.T) {
	r := newRig(t, helpDesk)
	up := r.activity("amartin", "conversationUpdate")
	up["membersAdded"] = []map[string]string{{"id": "28:" + testAppID}}
	r.send(up)

	r.send(r.mention("agent1", helpDeskConv, "handoff alice.martin@demo.example verify"))
	conv := r.personalConv()
	hid := regexp.MustCompile(`Handoff ID: (\S+)`).FindStringSubmatch(texts(cardOf(t, []byte(r.to("helpdesk")[0].Body))))
	if hid == nil {
		t.Fatalf("no handoff ID on the status card:\n%s", r.to("helpdesk")[0].Body)
	}
	card, id := r.shownIn(conv)
	submit := func(data map[string]any) {
		act := in(r.activity("amartin", "message"), conv)
		act["value"], act["replyToId"] = data, id
		r.send(act)
		card, id = r.shownIn(conv)
	}
	submit(map[string]any{tokenKey: r.button(card, "amartin", "c:sms")})
	submit(map[string]any{tokenKey: r.button(card, "amartin", valueText), fieldText: r.code()})
	number := regexp.MustCompile(`call: (\d{3} \d{3})\.`).FindStringSubmatch(texts(card))
	if number == nil {
		t.Fatalf("no read-back number:\n%s", texts(card))
	}
	r.known = append(r.known, strings.ReplaceAll(number[1], " ", ""))
	if got := r.statuses(); slices.Contains(got, "verified") {
		t.Fatalf("verified before the read-back: %q", got)
	}
	// replied waits for the bot's text reply (status-card updates run on
	// the worker pool and may land after it) and reports whether it has want.
	seen := 0
	replied := func(want ...string) string {
		t.Helper()
		r.idle()
		w := r.to("helpdesk")
		for _, c := range w[seen:] {
			if !strings.Contains(c.Body, "attachments") {
				seen = len(w)
				for _, s := range want {
					if strings.Contains(c.Body, s) {
						return ""
					}
				}
				return c.Body
			}
		}
		return "no text reply"
	}
	wrong := "000 000"
	if wrong == number[1] {
		wrong = "111 111"
	}
	r.send(r.mention("agent1", helpDeskConv, "confirm "+hid[1]+" "+wrong))
	if got := replied("does not match"); got != "" {
		t.Fatalf("wrong number answered: %s", got)
	}
	// Another conversation's ID, or a made-up one, answers like a missing one.
	r.send(r.mention("agent1", helpDeskConv, "confirm hx_unknown0000000000000 "+number[1]))
	if got := replied("no verification of yours", "To hand a person"); got != "" {
		t.Fatalf("unknown handoff answered: %s", got)
	}
	r.send(r.mention("agent1", helpDeskConv, "confirm "+hid[1]+" "+number[1]))
	if got := replied("The number matches"); got != "" {
		t.Fatalf("right number answered: %s", got)
	}
	r.idle()
	// verified → done may reach the card as one update.
	onCard := slices.ContainsFunc(r.to("helpdesk"), func(c captured) bool { return strings.Contains(c.Body, "Verified with: readback") })
	if got := r.statuses(); got[len(got)-1] != "done" || !onCard {
		t.Fatalf("status card after the read-back: %q", got)
	}
	r.sweep()
}
