package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoTesting keeps test-only code out of the production
// binary: a package that imports "testing" outside a _test.go file (a test
// switch read at run time, a test helper imported by mistake) would link it.
func TestBinaryLinksNoTesting(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") {
			t.Errorf("the resetbot binary links %q; find the importer with: go list -deps -f '{{.ImportPath}} {{.Imports}}' ./cmd/resetbot | grep testing", pkg)
		}
	}
}
