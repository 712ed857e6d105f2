package mattermost

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/secret"
)

// checker records problems as the configuration framework would.
type checker struct{ problems []string }

func (c *checker) Errorf(path, format string, args ...any) {
	c.problems = append(c.problems, path+": "+fmt.Sprintf(format, args...))
}
func (c *checker) Warnf(path, format string, args ...any) { c.Errorf(path, format, args...) }
func (c *checker) Given(string) bool                      { return true }
func (c *checker) Production() bool                       { return true }
func (c *checker) FileExists(string, string)              {}

func validConfig() *Config {
	c := NewConfig().(*Config)
	c.Enabled, c.URL, c.BotToken, c.CallbackKey = true, "https://chat.example.com", secret.New("tok"), secret.New(testCallbackKey)
	return c
}

// TestValidate: each broken setting is reported at its own path, through
// the plug-in contract; a valid block and a disabled one report nothing.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string // the path reported; "" for none
	}{
		{"valid", func(*Config) {}, ""},
		{"disabled, empty", func(c *Config) { *c = Config{} }, ""},
		{"no url", func(c *Config) { c.URL = "" }, "channels.mattermost.url"},
		{"plain http to a remote server", func(c *Config) { c.URL = "http://chat.example.com" }, "channels.mattermost.url"},
		{"credentials in the url", func(c *Config) { c.URL = "https://u:p@chat.example.com" }, "channels.mattermost.url"},
		{"no bot token", func(c *Config) { c.BotToken = secret.String{} }, "channels.mattermost.bot_token"},
		{"short callback key", func(c *Config) { c.CallbackKey = secret.New("short") }, "channels.mattermost.callback_key"},
		{"relative callback url", func(c *Config) { c.CallbackURL = "/mm" }, "channels.mattermost.callback_url"},
		{"bad team id", func(c *Config) { c.TeamIDs = []string{"Town Square"} }, "channels.mattermost.team_ids[0]"},
		{"bad help-desk channel", func(c *Config) { c.HelpDeskChannel = "help-desk" }, "channels.mattermost.help_desk_channel"},
		{"token ttl too long", func(c *Config) { c.TokenTTL = 48 * time.Hour }, "channels.mattermost.token_ttl"},
		{"mapping from upn", func(c *Config) { c.IdentityMapping.From = "upn" }, "channels.mattermost.identity_mapping.from"},
		{"login_prefix without domains", func(c *Config) { c.IdentityMapping.To = "login_prefix" }, "channels.mattermost.identity_mapping.domains"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.mutate(c)
			var ch checker
			c.Validate(&ch, "channels.mattermost")
			switch {
			case tc.want == "" && len(ch.problems) > 0:
				t.Fatalf("problems %q", ch.problems)
			case tc.want != "" && (len(ch.problems) != 1 || !strings.HasPrefix(ch.problems[0], tc.want+": ")):
				t.Fatalf("problems %q, want one at %s", ch.problems, tc.want)
			}
			for _, p := range ch.problems {
				if strings.Contains(p, testCallbackKey) || strings.Contains(p, "u:p") {
					t.Fatalf("a problem shows a secret: %q", p)
				}
			}
		})
	}
}

// TestOpen: a disabled block opens nothing; an enabled one opens a channel
// named mattermost with its two callback routes, whose buttons never
// outlive the session; invalid settings are refused.
func TestOpen(t *testing.T) {
	e := newEnv(t)
	deps := channel.Deps{Engine: e.a.Engine, Messages: e.a.Messages, Store: e.a.Store, Log: e.b.log,
		PublicURL: "https://resetbot.test", SessionTTL: 10 * time.Minute}
	if ch, err := Open(context.Background(), deps, &Config{}); ch != nil || err != nil {
		t.Fatalf("disabled: %v %v", ch, err)
	}
	ch, err := Open(context.Background(), deps, validConfig())
	if err != nil {
		t.Fatal(err)
	}
	b := ch.(*Bot)
	defer b.Close()
	if ch.Name() != "mattermost" || len(ch.Routes()) != 2 || b.o.Config.TokenTTL != deps.SessionTTL {
		t.Fatalf("opened %s, routes %v, token ttl %v", ch.Name(), ch.Routes(), b.o.Config.TokenTTL)
	}
	if _, ok := b.HelpDesk(); ok {
		t.Fatal("a help-desk poster without a help-desk channel")
	}
	bad := validConfig()
	bad.CallbackKey = secret.New("short")
	if _, err := Open(context.Background(), deps, bad); err == nil || strings.Contains(err.Error(), "short") {
		t.Fatalf("invalid settings: %v", err)
	}
}

// TestEscape: what a message's arguments carry cannot become a mention, a
// link or formatting in a Mattermost post.
func TestEscape(t *testing.T) {
	got := escape("@channel [click](https://evil.example) **bold** <!here> `x`")
	for _, bad := range []string{"@channel", "[click](", "**", "<!", "`x`"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q survives escaping: %q", bad, got)
		}
	}
	if plain(got) != "@channel [click](https://evil.example) **bold** <!here> `x`" {
		t.Errorf("escaping changed the text: %q", plain(got))
	}
}

// TestDocumentedBlock: the channels.mattermost block of docs/mattermost.md
// decodes into Config with no unknown key, and every key reaches its
// field.
func TestDocumentedBlock(t *testing.T) {
	raw, err := os.ReadFile("../../docs/mattermost.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start := strings.Index(doc, "    mattermost:\n")
	end := strings.Index(doc[start:], "   ```")
	if start < 0 || end < 0 {
		t.Fatal("no channels.mattermost block in docs/mattermost.md")
	}
	var lines []string
	for _, l := range strings.Split(doc[start:start+end], "\n")[1:] {
		lines = append(lines, strings.TrimPrefix(l, "       "))
	}
	dec := yaml.NewDecoder(strings.NewReader(strings.Join(lines, "\n")))
	dec.KnownFields(true)
	c := NewConfig().(*Config)
	if err := dec.Decode(c); err != nil {
		t.Fatalf("documented block: %v", err)
	}
	if !c.Enabled || c.URL != "https://chat.corp.example" || c.CallbackURL == "" || len(c.TeamIDs) != 1 ||
		c.IdentityMapping.From != "email" || c.Workers != 16 || c.Queue != 256 || c.TokenTTL != 30*time.Minute {
		t.Fatalf("documented block decoded as %+v", c)
	}
}
