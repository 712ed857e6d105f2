package config_test

import (
	"testing"

	"github.com/resetbot/resetbot/internal/configtest"
	"github.com/resetbot/resetbot/plugins"
)

// TestRequireCountsIndependentFactors: an SMS and a call to the same phone
// are one factor, so they cannot meet a requirement of two.
func TestRequireCountsIndependentFactors(t *testing.T) {
	base := "mode: demo\nfactors:\n  enabled: [sms, voice]\n  require:\n    unlock: {default: 1}\n    enroll: {default: 1}\n"
	configtest.CheckSection(t, plugins.All, base, "factors.require", []configtest.Case{
		{"phone twice is one factor", "    reset: {default: 2}\n", "factors.require.reset.default"},
		{"one is fine", "    reset: {default: 1, voice: 1}\n", ""},
	})
}
