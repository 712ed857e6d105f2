package slack

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/config"
)

// TestManifestMatchesHandlers checks that everything the generated manifest
// names is served: every URL is a route, every slash command starts a flow
// (not "unknown command"), every subscribed event type reaches the engine.
func TestManifestMatchesHandlers(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			e := newEnv(t, tr.socket, func(c *config.Config, _ *Options) {
				slackOf(c).ResetCommand, slackOf(c).AppName = "/pw-reset", "Password Help"
			})
			raw, err := BuildManifest(e.b.o.Config, e.b.o.PublicURL).YAML()
			if err != nil {
				t.Fatal(err)
			}
			var m Manifest
			if err := yaml.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			if m.Settings.SocketModeEnabled != tr.socket || m.DisplayInformation.Name != "Password Help" {
				t.Fatalf("manifest settings: %+v", m.Settings)
			}
			urls := []string{m.Settings.EventSubscriptions.RequestURL, m.Settings.Interactivity.RequestURL}
			for _, c := range m.Features.SlashCommands {
				urls = append(urls, c.URL)
			}
			routes := e.b.Routes()
			for _, u := range urls {
				if tr.socket {
					if u != "" {
						t.Errorf("socket mode manifest names URL %q", u)
					}
					continue
				}
				p, err := url.Parse(u)
				if err != nil || !strings.HasPrefix(u, "https://resetbot.test/") || routes["POST "+p.Path] == nil {
					t.Errorf("manifest URL %q is not routed", u)
				}
			}
			if !m.Settings.Interactivity.IsEnabled {
				t.Error("interactivity disabled")
			}
			if len(m.Features.SlashCommands) != 3 || m.Features.SlashCommands[0].Command != "/pw-reset" ||
				m.Features.SlashCommands[2].Command != DefaultHandoffCommand || !m.Features.SlashCommands[2].ShouldEscape {
				t.Fatalf("commands %+v", m.Features.SlashCommands)
			}
			for i, c := range m.Features.SlashCommands[:2] {
				user := []string{"U1", "U2"}[i]
				before := e.spy.turns.Load()
				var ack []byte
				e.step(func() {
					ack = e.tr.command(t, url.Values{"command": {c.Command}, "team_id": {testTeam}, "user_id": {user},
						"channel_id": {"C1"}, "trigger_id": {e.next("trg-")}})
				})
				var resp map[string]string
				_ = json.Unmarshal(ack, &resp)
				if resp["text"] != e.msg("slack.moved_to_dm") || e.spy.turns.Load() != before+1 {
					t.Errorf("command %s not served: ack %q", c.Command, ack)
				}
			}
			for _, ev := range m.Settings.EventSubscriptions.BotEvents {
				var body []byte
				switch ev {
				case "message.im":
					body = messageEvent(e.next("Ev"), "U1", "DU1", "hello")
				case "app_mention":
					body = mentionEvent(e.next("Ev"), "U1", "C1", "<@UBOT> hello")
				case "app_home_opened":
					continue // checkEntryPoints
				default:
					t.Fatalf("manifest subscribes to %q, which the bot does not handle", ev)
				}
				before := e.spy.turns.Load()
				e.step(func() { e.tr.event(t, body) })
				if e.spy.turns.Load() != before+1 {
					t.Errorf("event %s not served", ev)
				}
			}
			checkEntryPoints(t, e, m)
			scopes := strings.Join(m.OAuthConfig.Scopes.Bot, " ")
			for _, s := range []string{"chat:write", "commands", "im:history", "users:read.email", "im:write",
				"channels:read", "groups:read", "usergroups:read"} {
				if !strings.Contains(scopes, s) {
					t.Errorf("scope %s missing", s)
				}
			}
			// The enrollment page (default) needs no file uploads; chat delivery does.
			if strings.Contains(scopes, "files:write") {
				t.Error("files:write requested with the enrollment page")
			}
			chat := e.b.o.Config
			chat.EnrollDelivery = EnrollDeliveryChat
			if s := strings.Join(BuildManifest(chat, "https://resetbot.test").OAuthConfig.Scopes.Bot, " "); !strings.Contains(s, "files:write") {
				t.Error("files:write missing with enroll_delivery: chat")
			}
		})
	}
}

// checkEntryPoints: the manifest's Home tab is on and published when
// opened (app_home_opened), and each shortcut starts a flow.
func checkEntryPoints(t *testing.T, e *env, m Manifest) {
	t.Helper()
	if !m.Features.AppHome.HomeTabEnabled || len(m.Features.Shortcuts) == 0 ||
		!slices.Contains(m.Settings.EventSubscriptions.BotEvents, "app_home_opened") {
		t.Fatalf("no home tab, home event or shortcuts: %+v %+v", m.Features, m.Settings.EventSubscriptions)
	}
	n := e.homeCount()
	e.step(func() { e.tr.event(t, homeEvent(e.next("Ev"), "U1")) })
	if e.homeCount() != n+1 {
		t.Error("app_home_opened not served: no views.publish")
	}
	for _, sc := range m.Features.Shortcuts {
		before := e.spy.turns.Load()
		e.step(func() { e.tr.interact(t, shortcutPayload(sc.Type, sc.CallbackID, "U2", e.next("trg-"))) })
		if e.spy.turns.Load() != before+1 {
			t.Errorf("shortcut %s (%s) not served", sc.CallbackID, sc.Type)
		}
	}
}
