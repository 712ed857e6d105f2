package bolt_test

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/bolt"
)

// TestConfigValidate: the path is required and its directory must exist;
// Open refuses what Validate refuses.
func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, path, want string
	}{
		{"no path", "", "is required when store.type is bolt"},
		{"no directory", filepath.Join(dir, "nope", "resetbot.db"), "does not exist"},
		{"ok", filepath.Join(dir, "resetbot.db"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &bolt.Config{Path: tc.path}
			probs := plugin.Check(c, "store.bolt", true)
			if tc.want == "" {
				if len(probs) != 0 {
					t.Fatalf("problems %v", probs)
				}
				st, err := c.Open(t.Context(), store.Deps{Production: true})
				if err != nil {
					t.Fatal(err)
				}
				_ = st.(io.Closer).Close()
				return
			}
			if len(probs) != 1 || probs[0].Path != "store.bolt.path" || !strings.Contains(probs[0].Message, tc.want) {
				t.Fatalf("problems %v, want one at store.bolt.path: %s", probs, tc.want)
			}
			if _, err := c.Open(t.Context(), store.Deps{}); err == nil {
				t.Fatal("Open accepted what Validate refuses")
			}
		})
	}
}
