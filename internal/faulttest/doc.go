// Package faulttest holds the fault tests of issue 18: real `resetbot serve`
// processes (internal/procrig) sharing real Redis (single, or Sentinel with
// one master, one replica and three sentinels) and a real slapd, put through
// crashes (kill -9 mid-turn, a turn stuck in a hung directory), failovers,
// Redis outages (SIGSTOP, SIGTERM for 20 s), duplicate deliveries (5
// concurrent copies of every webhook, on one replica and across two) and a
// shutdown with turns longer than shutdown_timeout.
//
// Every scenario plays whole conversations the way the platforms deliver
// them — Slack redelivers an event that is not acknowledged with 200 within
// 3 s (compressed backoff); Twilio requests the fallback URL (the other
// replica, same parameters) once when a webhook fails — and counts lost
// conversations, doubled actions and sends (SMS to the user's mobile, read
// from the fake Twilio), and errors shown to the user. It asserts 0 lost and
// 0 doubled; errors shown are reported.
//
// Every scenario asserts by default; together they take about two minutes.
package faulttest
