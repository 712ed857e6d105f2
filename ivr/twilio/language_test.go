package twilio_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/internal/bottest"
	"github.com/resetbot/resetbot/plugins"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	ivr "github.com/resetbot/resetbot/ivr/twilio"
)

// isLanguageMenu reports whether d is the language menu.
func isLanguageMenu(d TwiML) bool {
	return d.Gather != nil && strings.Contains(d.Gather.Action, ivr.PathLanguage)
}

// TestLanguageRemembered: a caller who chose Spanish is answered in Spanish
// on the next call from the same number, without the language menu; another
// number still hears the menu; nine on the main menu switches language, and
// the switch is remembered too. Nine is named only when the language menu
// was not just heard.
func TestLanguageRemembered(t *testing.T) {
	h := newHarness(t)
	first := h.call("CA500")
	if d := first.do(ivr.PathIncoming, first.form()); !isLanguageMenu(d) {
		t.Fatalf("a first call did not hear the language menu: %s", d.Text())
	}
	// The caller has just heard the language menu: the hint leaves nine
	// out, though nine still opens the menu.
	if d := first.press("2"); strings.Contains(d.Text(), "nueve") || !strings.Contains(d.Gather.Action, "m=1") {
		t.Fatalf("right after the language menu: %s (%s)", d.Text(), d.Gather.Action)
	}
	first.hangUp()

	again := h.call("CA501")
	d := again.do(ivr.PathIncoming, again.form())
	if isLanguageMenu(d) || d.Gather == nil || d.Gather.Say[0].Language != "es-US" {
		t.Fatalf("a returning caller was not answered in Spanish at once: %+v", d)
	}
	mustContain(t, d, "nueve para otro idioma")
	if menu := again.press("9"); !isLanguageMenu(menu) {
		t.Fatalf("nine did not open the language menu: %s", menu.Text())
	}
	if en := again.press("1"); en.Gather == nil || en.Gather.Say[0].Language != "en-US" {
		t.Fatalf("the switch to English did not take: %+v", en)
	}
	mustContain(t, again.press("1"), "mployee number")
	again.hangUp()

	third := h.call("CA502")
	if d := third.do(ivr.PathIncoming, third.form()); d.Gather == nil || d.Gather.Say[0].Language != "en-US" {
		t.Fatalf("the switch was not remembered: %+v", d)
	}
	other := h.call("CA503")
	other.from = "+15555550188"
	if d := other.do(ivr.PathIncoming, other.form()); !isLanguageMenu(d) {
		t.Fatalf("another number skipped the menu: %s", d.Text())
	}
	withheld := h.call("CA504")
	withheld.from = "anonymous"
	if d := withheld.do(ivr.PathIncoming, withheld.form()); !isLanguageMenu(d) {
		t.Fatalf("a withheld number skipped the menu: %s", d.Text())
	}
	// The number is never logged or stored with its language (the memory is
	// keyed by an HMAC of it). The audit names the caller on flow.start by
	// design (audit.FieldCaller), so it is left out of this sweep.
	c := h.captured()
	c.Audit = ""
	bottest.Sweep(t, c, caller)
}

// TestLanguageNotRemembered: with language_memory negative nothing is kept.
func TestLanguageNotRemembered(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { phoneOf(c).LanguageMemory = -1 })
	c := h.call("CA510")
	c.start("2")
	c.hangUp()
	c = h.call("CA511")
	if d := c.do(ivr.PathIncoming, c.form()); !isLanguageMenu(d) {
		t.Fatalf("the language was remembered with language_memory off: %s", d.Text())
	}
}

// TestLanguageByNumberCalled: the Twilio number called sets the language
// (no menu), and a single configured language never plays the menu and
// offers no nine.
func TestLanguageByNumberCalled(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		phoneOf(c).Numbers = map[string]string{"+34910000000": "es"}
	})
	c := h.call("CA520")
	d := c.do(ivr.PathIncoming, c.form("To", "+34910000000"))
	if isLanguageMenu(d) || d.Gather == nil || d.Gather.Say[0].Language != "es-US" {
		t.Fatalf("the Spanish number did not start in Spanish: %+v", d)
	}
	c = h.call("CA521")
	c.from = "+15555550189"
	if d := c.do(ivr.PathIncoming, c.form()); !isLanguageMenu(d) {
		t.Fatalf("the main number skipped the menu: %s", d.Text())
	}

	one := newHarness(t, func(c *config.Config) { phoneOf(c).Languages = []string{"fr"} })
	c = one.call("CA522")
	d = c.do(ivr.PathIncoming, c.form())
	if isLanguageMenu(d) || d.Gather == nil || d.Gather.Say[0].Language != "fr-FR" || strings.Contains(d.Gather.Action, "m=1") {
		t.Fatalf("a single language played a menu or offered nine: %+v", d)
	}
	mustContain(t, d, "Étoile pour réécouter")
}

// localeEngine answers one delivery in another language, as the engine does
// on the turn that verifies an account whose directory entry prefers it.
type localeEngine struct {
	e        ivr.Engine
	delivery string
	locale   string
}

func (l *localeEngine) Handle(ctx context.Context, t engine.Turn) engine.Reply {
	r := l.e.Handle(ctx, t)
	if t.DeliveryID == l.delivery {
		r.Locale = l.locale
	}
	return r
}

// TestDirectoryLanguageRemembered: when a call switches to the account's
// preferred language (after verification), the next call from the number
// starts in it.
func TestDirectoryLanguageRemembered(t *testing.T) {
	h := newHarness(t)
	tc := phoneOf(h.a.Config)
	var err error
	h.ivr, err = ivr.New(&localeEngine{e: h.a.Engine, delivery: "CA530:3", locale: "es"}, h.a.Messages,
		ivr.Config{PublicURL: public, AccountSID: tc.AccountSID, AuthToken: tc.AuthToken, Languages: tc.Languages,
			Store: h.a.Store, CallerKey: h.a.CallerKey})
	if err != nil {
		t.Fatal(err)
	}
	c := h.call("CA530")
	c.start("1")
	c.press("1")
	c.press("10041")
	if d := c.press("2"); d.Gather == nil || d.Gather.Say[0].Language != "es-US" {
		t.Fatalf("the switched turn was not said in Spanish: %+v", d)
	}
	c.hangUp()
	c = h.call("CA531")
	if d := c.do(ivr.PathIncoming, c.form()); isLanguageMenu(d) || d.Gather == nil || d.Gather.Say[0].Language != "es-US" {
		t.Fatalf("the account's language was not remembered for the number: %+v", d)
	}
}

// TestOpenPassesTheLanguageSettings: serve's wiring hands the IVR the
// store, the caller key and the language settings of the configuration.
func TestOpenPassesTheLanguageSettings(t *testing.T) {
	cfg := config.Default(plugins.All())
	tc := &ivr.Settings{Numbers: map[string]string{"+34910000000": "es"}, LanguageMemory: -1}
	cfg.Channels.Plugins = map[string]plugin.Config{"twilio": tc}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c := ivr.ConfigOf(a.ChannelDeps(slog.New(slog.DiscardHandler)), *tc)
	if c.Store == nil || len(c.CallerKey) < 32 || c.Numbers["+34910000000"] != "es" || c.LanguageMemory != -1 {
		t.Fatalf("IVR config: store %v, key %d bytes, numbers %v, memory %v", c.Store != nil, len(c.CallerKey), c.Numbers, c.LanguageMemory)
	}
}
