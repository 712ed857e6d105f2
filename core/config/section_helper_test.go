package config_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

// sectionCase is one configuration snippet added to a base document and the
// problem path it must produce ("" for none).
type sectionCase struct {
	name  string
	extra string
	want  string
}

// checkSection parses base+extra for each case and checks the errors under
// prefix: none when want is "", otherwise one at want.
func checkSection(t *testing.T, base, prefix string, cases []sectionCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, all := config.Parse([]byte(base+tc.extra), nil, plugins.All())
			var probs config.Problems
			for _, p := range all.Errors() {
				if strings.HasPrefix(p.Path, prefix) {
					probs = append(probs, p)
				}
			}
			got := probs.Error()
			if tc.want == "" && len(probs) > 0 {
				t.Fatalf("unexpected problems:\n%s", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("want a problem at %s, got:\n%s", tc.want, got)
			}
		})
	}
}

// TestRequireCountsIndependentFactors: an SMS and a call to the same phone
// are one factor, so they cannot meet a requirement of two.
func TestRequireCountsIndependentFactors(t *testing.T) {
	base := "mode: demo\nfactors:\n  enabled: [sms, voice]\n  require:\n    unlock: {default: 1}\n    enroll: {default: 1}\n"
	checkSection(t, base, "factors.require", []sectionCase{
		{"phone twice is one factor", "    reset: {default: 2}\n", "factors.require.reset.default"},
		{"one is fine", "    reset: {default: 1, voice: 1}\n", ""},
	})
}
