package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shipTags are the build tags the Makefile (GOFLAGS) and deploy/Containerfile
// build the binary with.
const shipTags = "grpcnotrace"

// TestBinaryKeepsNoReflectiveMethodCall keeps the linker's dead-code
// elimination of methods working. When code that calls
// reflect.Value.Method or MethodByName with a name known only at run time
// is reachable (text/template executing any template, html/template
// included), the linker must keep every exported method of every type that
// reaches an interface: the binary grows by half (48 MB instead of 33 MB,
// ~10 MB more text and pclntab resident in serve). The test links the
// binary as shipped and fails naming the path from main to such a call.
func TestBinaryKeepsNoReflectiveMethodCall(t *testing.T) {
	if testing.Short() {
		t.Skip("links the binary")
	}
	cmd := exec.Command("go", "build", "-tags", shipTags, "-ldflags=-dumpdep", "-o", filepath.Join(t.TempDir(), "resetbot"), ".")
	var dump bytes.Buffer
	cmd.Stderr = &dump
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v\n%.2000s", err, dump.String())
	}
	// -dumpdep prints "from -> to" for every edge the linker follows, the
	// first edge to a symbol being the one that made it reachable.
	parent := map[string]string{}
	var found []string
	sc := bufio.NewScanner(&dump)
	for sc.Scan() {
		from, to, ok := strings.Cut(sc.Text(), " -> ")
		if !ok {
			continue
		}
		from, _, _ = strings.Cut(from, " <")
		name, flags, _ := strings.Cut(to, " <")
		if _, seen := parent[name]; !seen {
			parent[name] = from
		}
		if strings.Contains(flags, "ReflectMethod") || name == "golang.org/x/net/trace.init.0" {
			found = append(found, name)
		}
	}
	for _, sym := range found {
		path := []string{sym}
		for s := parent[sym]; s != "" && len(path) < 40; s = parent[s] {
			path = append(path, s)
		}
		t.Errorf("the binary reaches %s, so the linker keeps every exported method; reached by:\n  %s",
			sym, strings.Join(path, "\n  <- "))
	}
}
