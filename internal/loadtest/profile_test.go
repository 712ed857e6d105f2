package loadtest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/resetbot/resetbot/internal/procrig"
)

// profileOnly is `LOADTEST_PROFILE=dir make bench-load`: instead of the
// table, it saves CPU and allocation profiles of serve under saturated Slack
// and then saturated voice load into dir (slack.cpu, slack.allocs,
// voice.cpu, voice.allocs), then Slack at the offered rate (slackrate.cpu,
// overload.heap), for `go tool pprof`.
func profileOnly(b *testing.B, srv *procrig.Serve, t target, f *procrig.FakeSlack, dir string) {
	const secs = 6
	run := map[string]func(tag string, d time.Duration){
		"slack": func(tag string, d time.Duration) { _ = slackSaturated(t.c, f, tag, slackConc, d) },
		"voice": func(tag string, d time.Duration) { _ = voiceSaturated(t.c, tag, voiceConc, d) },
	}
	for _, name := range []string{"slack", "voice"} {
		run[name]("pw"+name[:1], warmup)
		for i, kind := range []string{"profile", "allocs"} {
			done := make(chan error, 1)
			file := filepath.Join(dir, name+"."+map[string]string{"profile": "cpu", "allocs": "allocs"}[kind])
			go func() { done <- saveProfile(srv.Admin, kind, secs, file) }()
			run[name](fmt.Sprintf("p%d%s", i, name[:1]), secs*time.Second+200*time.Millisecond)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	}
	// The heap in use under overload (Slack at the offered rate), taken
	// half-way through, for peak RSS; and the CPU profile of that phase
	// (every turn a new user's first: slackrate.cpu).
	done := make(chan error, 2)
	go func() {
		time.Sleep(phase / 2)
		done <- saveProfile(srv.Admin, "heap", 0, filepath.Join(dir, "overload.heap"))
	}()
	go func() {
		done <- saveProfile(srv.Admin, "profile", int(phase/time.Second)-1, filepath.Join(dir, "slackrate.cpu"))
	}()
	_ = slackRate(t.c, f, "ph", offered, phase, newcomers("ph"))
	for range 2 {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	fmt.Printf("profiles in %s (binary %s)\n", dir, procrig.Binary(b))
}

func saveProfile(admin, kind string, secs int, file string) error {
	u := fmt.Sprintf("http://%s/debug/pprof/%s", admin, kind)
	if secs > 0 {
		u += fmt.Sprintf("?seconds=%d", secs)
	}
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
