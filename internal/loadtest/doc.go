// Package loadtest is `make bench-load`: it builds and starts `resetbot
// serve` (production configuration, real redis-server and slapd, fake Slack
// Web API and Twilio REST on loopback) and the reference handler
// (./refserver), drives both with signed Slack events and Twilio voice
// webhooks, saturated and at a fixed offered rate, and prints a table:
// turns/s, turns per CPU-second of the server process (from /proc), ack and
// turn p50/p99, peak RSS, Redis commands per turn (INFO commandstats delta),
// bytes serve allocated per turn, read and write system calls per turn,
// serve's collections per second, and the ratio to the reference handler,
// then what serve logged in each phase and the top of a CPU profile of serve
// under saturation. The measured processes run at nice -10 when permitted
// (LOADTEST_NICE); LOADTEST_ONLY, LOADTEST_SLACK_WORKERS and
// LOADTEST_SERVE_{GOMEMLIMIT,GOGC,GODEBUG} select A/B variants
// (docs/operations.md). Each row is interleaved rounds of both targets.
//
// It is a benchmark (BenchmarkLoad), never a timed test: the targets of
// issue 18 are printed next to the measurements, not asserted. It asserts
// only correctness: no acknowledged turn may go unanswered.
package loadtest
