package config_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

// TestDefaultLanguage: the default language must have a catalog, and the
// problem names the key and its line.
func TestDefaultLanguage(t *testing.T) {
	for _, tc := range []struct {
		lang string
		bad  bool
	}{{"fr", false}, {"pt-BR", false}, {"de-AT", false}, {"tlh", true}} {
		_, probs := config.Parse([]byte("mode: demo\nlanguage: "+tc.lang+"\n"), nil, plugins.All())
		var got *config.Problem
		for i, p := range probs {
			if p.Path == "language" {
				got = &probs[i]
			}
		}
		switch {
		case tc.bad && (got == nil || got.Line != 2 || !strings.Contains(got.Message, "no catalog")):
			t.Errorf("language %s: want a problem at line 2, got %+v", tc.lang, got)
		case !tc.bad && got != nil:
			t.Errorf("language %s: unexpected problem %+v", tc.lang, got)
		}
	}
}
