package main

import (
	"strings"
	"testing"
)

// TestHelpListsEveryCommand: `resetbot help` lists each command on one line.
func TestHelpListsEveryCommand(t *testing.T) {
	var code int
	out := captureStdout(t, func() { code = run([]string{"help"}) })
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(out, "\n")
	for _, c := range commands {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), c.name+" ") {
				n++
			}
		}
		if n != 1 || c.about == "" {
			t.Errorf("%s: %d lines in help", c.name, n)
		}
	}
	if code := run([]string{"frobnicate"}); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}
