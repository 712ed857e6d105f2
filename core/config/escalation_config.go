package config

// escalations refuses a production configuration in which a help-desk
// escalation would go nowhere. Users who are locked out, fail repeatedly,
// have nothing enrolled or ask for a person are told that the help desk will
// take over; that must be true. Escalation packets go to the ticket webhook
// and to the help-desk channel of every enabled chat platform; a call is also
// transferred to the Twilio help-desk number.
func (v *validator) escalations(c *Config) {
	if !v.production() {
		return
	}
	h, ch := &c.Handoff, &c.Channels
	packets := h.TicketWebhookURL != "" ||
		(ch.Slack.Enabled && h.HelpDeskSlackChannel != "") ||
		(ch.Teams.Enabled && h.HelpDeskTeamsChannel != "")
	chat := ch.Slack.Enabled || ch.Teams.Enabled
	if chat && !packets {
		v.errorf("handoff", "escalations from chat go nowhere: set handoff.ticket_webhook_url, "+
			"or handoff.help_desk_slack_channel (Slack enabled) or handoff.help_desk_teams_channel (Teams enabled); "+
			"users asking for a person are told the help desk will contact them")
	}
	if ch.Twilio.Enabled && ch.Twilio.HelpDeskNumber == "" && !packets {
		v.errorf("channels.twilio.help_desk_number", "is required when no escalation destination is set "+
			"(handoff.ticket_webhook_url or a help-desk chat channel): callers asking for a person must reach one")
	}
}
