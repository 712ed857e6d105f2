package slack

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/bot/chatid"
	"github.com/resetbot/resetbot/core/config"
)

// TestIdentityMappingSignal: only a confirmed profile email that names one
// directory account skips the login question; an unconfirmed email, an
// email the directory does not know, and the mapping turned off all get
// exactly the replies of a person the bot knows nothing about.
func TestIdentityMappingSignal(t *testing.T) {
	first := func(t *testing.T, user string, f fakeUser, mutate ...func(*config.Config, *Options)) string {
		e := newEnv(t, false, mutate...)
		e.f.setUser(user, f)
		return texts(e.dm(user, "reset my password"))
	}
	mapped := first(t, "U1", fakeUser{Email: "alice.martin@demo.example", Locale: "en-US"})
	e := newEnv(t, false)
	if ask := e.msg("identify.prompt"); contains(mapped, ask) {
		t.Fatalf("a mapped identity was asked who it is: %q", mapped)
	}
	baseline := first(t, "U7", fakeUser{Locale: "en-US"}) // no email at all
	if !contains(baseline, e.msg("identify.prompt")) {
		t.Fatalf("no login question without a mapping: %q", baseline)
	}
	off := func(c *config.Config, _ *Options) { slackOf(c).IdentityMapping.From = chatid.FromOff }
	for name, got := range map[string]string{
		"unconfirmed email": first(t, "U7", fakeUser{Email: "alice.martin@demo.example", Locale: "en-US", Unconfirmed: true}),
		"unknown email":     first(t, "U7", fakeUser{Email: "nobody@demo.example", Locale: "en-US"}),
		"mapping off":       first(t, "U7", fakeUser{Email: "alice.martin@demo.example", Locale: "en-US"}, off),
	} {
		if got != baseline {
			t.Errorf("%s: replies differ from an unknown person's:\n%q\nvs\n%q", name, got, baseline)
		}
	}
}

func contains(s, sub string) bool { return sub != "" && strings.Contains(s, sub) }
