// Package bottest is the channel conformance suite: the same conversations
// (reset, unlock, enroll, a stale or forged click, a replayed delivery, a
// busy session, an escalation, an expired session, bad input) played on
// every channel through a Driver, and one secret sweep (Sweep) of every log
// line, audit record, stored value and outbound body they produced.
//
// Each channel's test package implements Driver with its own fakes (the
// Slack Web API, the Bot Framework, Twilio, a terminal) and calls
// Run(t, driver). Drivers speak in neutral terms: a person starts a
// conversation, types, picks a labelled choice, fills a masked field, and
// reads back what they were shown as plain text and choice labels. What a
// channel cannot do (a phone has no buttons, a terminal no redeliveries) is
// declared in Driver.Lacks with the reason; a scenario a driver neither
// supports nor declares fails, so parity between channels is enforced, not
// accidental (dex storage/conformance is the model).
package bottest
