package config

import "strings"

// escalations refuses a production configuration in which a help-desk
// escalation would go nowhere. Users who are locked out, fail repeatedly,
// have nothing enrolled or ask for a person are told that the help desk will
// take over; that must be true. Escalation packets go to the ticket webhook
// and to the help-desk channel of every enabled chat platform; a call is also
// transferred to the number of a channel that transfers (Transferrer: the
// phone's help_desk_number).
func (v *validator) escalations(c *Config) {
	if !v.production() {
		return
	}
	h, ch := &c.Handoff, &c.Channels
	packets := h.TicketWebhookURL != ""
	var chat, targets []string
	for _, b := range ch.Enabled() {
		// A chat channel is one whose escalations go to a help-desk
		// conversation (HelpDeskTargeter); a channel that escalates its own
		// way (the phone transfers the call) answers for itself.
		if t, ok := b.Channel.(HelpDeskTargeter); ok {
			chat = append(chat, b.Key)
			packets = packets || t.HelpDeskTarget() != ""
			targets = append(targets, "channels."+b.Key+".help_desk_channel")
		}
	}
	if len(chat) > 0 && !packets {
		where := "handoff.ticket_webhook_url"
		if len(targets) > 0 {
			where += ", or " + strings.Join(targets, " or ")
		}
		v.errorf("handoff", "escalations from chat (%s) go nowhere: set %s; "+
			"users asking for a person are told the help desk will contact them", strings.Join(chat, ", "), where)
	}
	for _, b := range ch.Enabled() {
		t, ok := b.Channel.(Transferrer)
		if !ok {
			continue
		}
		if setting, target := t.Transfer(); target == "" && !packets {
			v.errorf("channels."+b.Key+"."+setting, "is required when no escalation destination is set "+
				"(handoff.ticket_webhook_url or a help-desk chat channel): callers asking for a person must reach one")
		}
	}
}
