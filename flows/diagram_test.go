package flows_test

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDiagrams keeps docs/flows/<flow>.md, generated from each flow's FSM
// table, current: `make diagrams` (go test ./flows -run TestDiagrams -update)
// rewrites them.
func TestDiagrams(t *testing.T) {
	h := newHarness(t)
	for _, f := range h.eng.Flows() {
		m1, m2 := f.Mermaid(), f.Mermaid()
		if m1 != m2 {
			t.Fatalf("%s: diagram is not deterministic", f.Name)
		}
		want := "# The " + f.Name + " flow\n\nGenerated from the FSM table in `flows/` by `make diagrams`; a test fails when it is stale.\n\n```mermaid\n" + m1 + "```\n"
		path := filepath.Join("..", "docs", "flows", f.Name+".md")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is stale or missing: run make diagrams", path)
		}
	}
}
