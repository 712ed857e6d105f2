// Package configtest checks configuration snippets the way check-config and
// serve load them, for the tests of core/config and of every plug-in that
// validates its own block.
package configtest

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/plugin"
)

// Case is one check: {name, the snippet added to the base document, the
// problem path it must produce ("" for none)}.
type Case [3]string

// CheckSection parses base plus each case's snippet with the registry reg
// and checks the errors under prefix: none when the case wants "", otherwise
// one at the path it wants.
func CheckSection(t *testing.T, reg func() plugin.Registry, base, prefix string, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		name, extra, want := tc[0], tc[1], tc[2]
		t.Run(name, func(t *testing.T) {
			_, all := config.Parse([]byte(base+extra), nil, reg())
			var probs config.Problems
			for _, p := range all.Errors() {
				if strings.HasPrefix(p.Path, prefix) {
					probs = append(probs, p)
				}
			}
			got := probs.Error()
			if want == "" && len(probs) > 0 {
				t.Fatalf("unexpected problems:\n%s", got)
			}
			if want != "" && !strings.Contains(got, want) {
				t.Fatalf("want a problem at %s, got:\n%s", want, got)
			}
		})
	}
}
