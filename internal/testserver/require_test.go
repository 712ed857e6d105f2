package testserver

import (
	"fmt"
	"runtime"
	"testing"
)

// TestShortStartsNoServer checks the promise of `make test-short`: under
// -short every starter skips its test before looking for a binary.
func TestShortStartsNoServer(t *testing.T) {
	if !testing.Short() {
		t.Skip("checks the -short behaviour: run with -short")
	}
	starters := map[string]func(t testing.TB){
		"redis":  func(t testing.TB) { Redis(t) },
		"shared": func(t testing.TB) { SharedRedis(t) },
		"slapd":  func(t testing.TB) { Slapd(t) },
		"samba":  func(t testing.TB) { SambaDC(t) },
		"kdc":    func(t testing.TB) { KDC(t) },
	}
	for name, start := range starters {
		var skipped bool
		t.Run(name, func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			start(t)
		})
		if !skipped {
			t.Errorf("%s started under -short", name)
		}
	}
}

// recorder is a testing.TB that records Fatal and Skip instead of acting on
// the real test, so the missing-server rule can itself be tested.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(f string, a ...any) {
	r.fatal = fmt.Sprintf(f, a...)
	runtime.Goexit()
}
func (r *recorder) Skip(a ...any) {
	r.skip = fmt.Sprint(a...)
	runtime.Goexit()
}

func runRecorder(t *testing.T, fn func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); fn(r) }()
	<-done
	return r
}

// TestMissingServerFailsWhenRequired: with the servers required (make test,
// CI) a missing binary is a failure naming the install script; otherwise a skip.
func TestMissingServerFailsWhenRequired(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv(RequireEnv, "1")
	if r := runRecorder(t, func(tb testing.TB) { missing(tb, "redis-server not installed") }); r.fatal == "" || r.skip != "" {
		t.Errorf("required: fatal=%q skip=%q", r.fatal, r.skip)
	}
	t.Setenv(RequireEnv, "")
	if r := runRecorder(t, func(tb testing.TB) { missing(tb, "redis-server not installed") }); r.fatal != "" || r.skip == "" {
		t.Errorf("not required: fatal=%q skip=%q", r.fatal, r.skip)
	}
	t.Setenv("CI", "true")
	if r := runRecorder(t, func(tb testing.TB) { missing(tb, "x") }); r.fatal == "" {
		t.Error("CI=true did not make a missing server a failure")
	}
}
