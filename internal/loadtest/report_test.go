package loadtest

// This file is what bench-load prints: the table and what serve logged per
// phase.

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// topCommands renders the commands of a phase per turn, most frequent first.
func topCommands(d map[string]int64, turns int64) string {
	if turns == 0 {
		return ""
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return d[keys[i]] > d[keys[j]] })
	var parts []string
	for i, k := range keys {
		if i == 8 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.2f", k, float64(d[k])/float64(turns)))
	}
	return strings.Join(parts, ", ")
}

func table(rows []row) string {
	var w strings.Builder
	fmt.Fprintf(&w, "\n%-9s %-5s %-10s %8s %9s %7s %7s %7s %7s %7s %8s %5s %6s %6s %6s %7s %5s %5s %5s %6s %5s %5s %5s %5s %5s %5s\n", "target", "work", "mode",
		"turns/s", "turns/cpu", "ratio", "ack50", "ack99", "turn50", "turn99", "peakRSS", "rt/t", "rcmd/t", "netB/t", "memB/t", "allocB/t",
		"503", "lost", "err", "unsent", "srv%", "cpu0%", "cpu1%", "rd/t", "wr/t", "gc/s")
	ref := map[string]float64{}
	for _, r := range rows {
		if r.target == "reference" {
			ref[r.workload+r.mode] = r.perCPU()
		}
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
	for _, r := range rows {
		ratio := "-"
		if x := ref[r.workload+r.mode]; x > 0 {
			ratio = fmt.Sprintf("%.2fx", r.perCPU()/x)
		}
		per := func(n int64) float64 {
			if r.s.turns == 0 {
				return 0
			}
			return float64(n) / float64(r.s.turns)
		}
		allocs, gcRate := "-", "-"
		if r.target != "reference" {
			allocs = fmt.Sprintf("%.0f", per(r.alloc))
			gcRate = fmt.Sprintf("%.1f", float64(r.gcs)/r.s.wall.Seconds())
		}
		fmt.Fprintf(&w, "%-9s %-5s %-10s %8.0f %9.0f %7s %7s %7s %7s %7s %7.1fM %5.2f %6.1f %6.0f %6.0f %7s %5d %5d %5d %6d %5.0f %5.0f %5.0f %5.1f %5.1f %5s\n", r.target, r.workload, r.mode,
			float64(r.s.turns)/r.s.wall.Seconds(), r.perCPU(), ratio, ms(percentile(r.s.ack, .5)), ms(percentile(r.s.ack, .99)),
			ms(percentile(r.s.turn, .5)), ms(percentile(r.s.turn, .99)), float64(r.peakRSS)/(1<<20), per(r.trips), per(r.redisCmds),
			per(r.redis.net), per(r.redis.mem), allocs, r.s.rejected, r.s.lost, r.s.errors, r.s.unsent,
			100*r.cpu.Seconds()/r.s.wall.Seconds(), 100*r.cpu0.Seconds()/r.s.wall.Seconds(), 100*r.cpu1.Seconds()/r.s.wall.Seconds(), per(r.reads), per(r.writes), gcRate)
	}
	w.WriteString("Redis commands per turn (INFO commandstats; commands run inside a Lua script are counted too:\n" +
		"  rcmd/t is server work, rt/t the round trips each server counted on its own client):\n")
	for _, r := range rows {
		fmt.Fprintf(&w, "  %-9s %-5s %-10s %s\n", r.target, r.workload, r.mode, topCommands(r.cmds, r.s.turns))
	}
	for _, r := range rows {
		if r.s.firstErr != "" {
			fmt.Fprintf(&w, "first error of %s %s %s: %s\n", r.target, r.workload, r.mode, r.s.firstErr)
		}
	}
	w.WriteString("targets (issue 18, reported not asserted): ratio >= 0.60x slack, >= 0.50x voice; turn p99 <= 5ms at 2000/s;\n" +
		"  <= 2 Redis round trips per turn (rt/t); peak RSS <= 64M under overload.\n" +
		"  allocB/t = bytes serve allocated per turn (its Go heap; independent of the machine's load).\n" +
		"  netB/t = Redis network bytes in+out per turn; memB/t = Redis used_memory growth per turn during the phase\n" +
		"  (kept until the records expire: resetbot's delivery marks after replay_keep, its sessions after the idle timeout).\n" +
		"  At a fixed rate, latency counts from each arrival's due time (open loop, no coordinated omission).\n" +
		"  slack 2000/s: 1,000 people in conversations under way; 2000/s new: every turn a new person's first,\n" +
		"  so both servers call users.info on every turn (the reference remembers profiles as resetbot does).\n" +
		"  srv% = the server's CPU time / wall time; cpu0% = CPU 0 busy (every process) / wall time: cpu0% well above\n" +
		"  srv% means other processes took the measured server's core, and latency then says more about them than about it;\n" +
		"  cpu1% is the generator's, Redis's and the fakes' core: near 100, latency counts their queueing too.\n" +
		"  rd/t, wr/t = the server's read and write system calls per turn (/proc/pid/io; on loopback a write also pays\n" +
		"  for the receiver's TCP processing, and a read that finds nothing is a wasted call before the poller waits).\n" +
		"  gc/s = serve's garbage collections per second: on its one core, a mark phase slows every turn in flight.\n" +
		fmt.Sprintf("  Each row is %d interleaved rounds of %v per target (the order alternates), summed.\n", rounds, phase/rounds) +
		"  turns/cpu = turns per CPU-second of the server process (serve and reference pinned to one core).\n" +
		"  503 = shed with Retry-After before any work (Slack redelivers, Twilio takes its fallback URL); lost = acknowledged but never answered;\n" +
		"  err = transport errors, non-200 or an error/busy answer; unsent = arrivals dropped by the generator (4000 in flight).\n")
	return w.String()
}

// logSummary counts log lines and names the three most frequent messages.
func logSummary(logs string) string {
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return "0 lines"
	}
	count := map[string]int{}
	for _, l := range lines {
		msg := l
		if _, after, ok := strings.Cut(l, "msg="); ok {
			msg, _, _ = strings.Cut(strings.TrimPrefix(after, `"`), `"`)
		} else if _, after, ok := strings.Cut(l, `"msg":"`); ok {
			msg, _, _ = strings.Cut(after, `"`)
		}
		count[msg]++
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return count[keys[i]] > count[keys[j]] })
	out := fmt.Sprintf("%d lines", len(lines))
	for i, k := range keys {
		if i == 3 {
			break
		}
		out += fmt.Sprintf("; %d× %.70q", count[k], k)
	}
	return out
}
