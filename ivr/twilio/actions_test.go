package twilio_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/resetbot/resetbot/internal/transcript"
)

// TestPhoneActionCounts counts the caller's key entries in the golden reset
// calls (internal/transcript): language, menu, employee number, the
// authenticator code and the text message's code — no factor menus.
func TestPhoneActionCounts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "reset_call_*.golden"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden calls (%v)", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		runs := transcript.Runs(string(raw))
		if len(runs) != 1 {
			t.Fatalf("%s: %d calls", f, len(runs))
		}
		t.Logf("%s: %d key entries %v", filepath.Base(f), runs[0].Actions, runs[0].Inputs)
		if runs[0].Actions > 5 {
			t.Errorf("%s: %d key entries, at most 5", f, runs[0].Actions)
		}
	}
}
