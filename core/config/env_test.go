package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/bot/slack"
	"github.com/resetbot/resetbot/bot/teams"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory/ad"
	"github.com/resetbot/resetbot/core/directory/ldap"
	"github.com/resetbot/resetbot/plugins"
)

func TestEnvOverrides(t *testing.T) {
	dir, sections := fixture(t)
	secretFile := filepath.Join(dir, "slack")
	if err := os.WriteFile(secretFile, []byte("from-file-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	adFile := filepath.Join(dir, "ad-bind")
	if err := os.WriteFile(adFile, []byte("ad-bind-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=/usr/bin", // not ours
		"RESETBOT_CONFIG=/etc/resetbot.yaml",
		"RESETBOT_SERVER__LISTEN=:9443",
		"RESETBOT_SERVER__READ_TIMEOUT=42s",
		"RESETBOT_SERVER__ADMIN_LISTEN=", // empty disables, not "keep default"
		"RESETBOT_CHANNELS__SLACK__SIGNING_SECRET_FILE=" + secretFile,
		"RESETBOT_CHANNELS__TEAMS__APP_PASSWORD=true", // literal text, not a bool
		"RESETBOT_DIRECTORIES__0__LDAP__BIND_PASSWORD=env-bind-value",
		"RESETBOT_DIRECTORIES__0__LDAP__POOL_SIZE=9",
		"RESETBOT_DIRECTORIES__1__AD__BIND_PASSWORD_FILE=" + adFile,
		"RESETBOT_DIRECTORIES__1__DOMAINS__1=second.example",
		"RESETBOT_FACTORS__ENABLED=totp, sms",
		"RESETBOT_FACTORS__REQUIRE__RESET__SLACK=1",
		"RESETBOT_REGULATION__SEND__GLOBAL_PER_HOUR=7",
	}
	cfg, probs := config.Parse([]byte(render(sections, nil)), env, plugins.All())
	if probs.HasErrors() {
		t.Fatalf("problems:\n%s", probs.Error())
	}
	// Directory blocks are the plug-ins' own types; the environment reaches
	// them by type name.
	ld, ok := cfg.Directories[0].Plugin.(*ldap.Config)
	ad, ok2 := cfg.Directories[1].Plugin.(*ad.Config)
	if !ok || !ok2 {
		t.Fatalf("directory plug-ins = %T, %T", cfg.Directories[0].Plugin, cfg.Directories[1].Plugin)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", cfg.Server.Listen, ":9443"},
		{"read_timeout", cfg.Server.ReadTimeout, 42 * time.Second},
		{"admin_listen", cfg.Server.AdminListen, ""},
		{"signing secret", slackOf(t, cfg).SigningSecret.Reveal(), "from-file-value"},
		{"app password", teamsOf(t, cfg).AppPassword.Reveal(), "true"},
		{"bind password", ld.BindPassword.Reveal(), "env-bind-value"},
		{"bind dn kept", ld.BindDN, "cn=resetbot,dc=corp,dc=example"},
		{"ldap pool size", ld.PoolSize, 9},
		{"ad bind password from a file", ad.BindPassword.Reveal(), "ad-bind-from-file"},
		{"domains", fmt.Sprint(cfg.Directories[1].Domains), "[ad.corp.example second.example]"},
		{"enabled", fmt.Sprint(cfg.Factors.Enabled), "[totp sms]"},
		{"require slack", cfg.Factors.Require.For("reset", "slack"), 1},
		{"require default kept", cfg.Factors.Require.For("reset", "teams"), 2},
		{"global per hour", cfg.Regulation.Send.GlobalPerHour, 7},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestEnvErrors(t *testing.T) {
	dir, sections := fixture(t)
	tests := []struct {
		name, env, path, msg string
	}{
		{"unknown", "RESETBOT_SERVER__LISTN=:1", "RESETBOT_SERVER__LISTN", `did you mean "listen"`},
		{"too deep", "RESETBOT_SERVER__LISTEN__X=:1", "RESETBOT_SERVER__LISTEN__X", "unknown setting"},
		{"block", "RESETBOT_SERVER=x", "RESETBOT_SERVER", "set its fields"},
		{"not an index", "RESETBOT_DIRECTORIES__A__NAME=x", "RESETBOT_DIRECTORIES__A__NAME", "expected an index"},
		{"skipped index", "RESETBOT_DIRECTORIES__5__NAME=x", "directories[5].name", "skips list elements"},
		{"file for non-secret", "RESETBOT_SERVER__LISTEN_FILE=/x", "RESETBOT_SERVER__LISTEN_FILE", "only accepted for secret"},
		{"missing file", "RESETBOT_KEYS__HMAC_FILE=" + filepath.Join(dir, "none"), "keys.hmac", "cannot read the file"},
		{"bad value", "RESETBOT_SESSIONS__IDLE_TIMEOUT=soon", "sessions.idle_timeout", "set by RESETBOT_SESSIONS__IDLE_TIMEOUT"},
		{"invalid value", "RESETBOT_FACTORS__CODES__DIGITS=4", "factors.codes.digits", "set by RESETBOT_FACTORS__CODES__DIGITS"},
		{"unknown plug-in key", "RESETBOT_DIRECTORIES__0__LDAP__DOMAIN=x", "RESETBOT_DIRECTORIES__0__LDAP__DOMAIN", "unknown setting"},
		{"invalid plug-in value", "RESETBOT_DIRECTORIES__0__LDAP__POOL_SIZE=500", "directories[0].ldap.pool_size",
			"set by RESETBOT_DIRECTORIES__0__LDAP__POOL_SIZE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := config.Parse([]byte(render(sections, nil)), []string{tt.env}, plugins.All())
			errs := probs.Errors()
			if len(errs) != 1 || errs[0].Path != tt.path || !strings.Contains(errs[0].Message, tt.msg) || errs[0].Line != 0 {
				t.Errorf("want one error at %s containing %q, got:\n%s", tt.path, tt.msg, probs.Error())
			}
		})
	}
	t.Run("both value and file", func(t *testing.T) {
		f := filepath.Join(dir, "tok")
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, probs := config.Parse([]byte(render(sections, nil)),
			[]string{"RESETBOT_KEYS__HMAC=" + strings.Repeat("z", 40), "RESETBOT_KEYS__HMAC_FILE=" + f}, plugins.All())
		if !slices.Contains(errorPaths(probs), "RESETBOT_KEYS__HMAC_FILE") {
			t.Errorf("no conflict reported:\n%s", probs.Error())
		}
	})
}

// slackOf and teamsOf return the channel plug-ins' blocks, decoded into the
// adapters' own types.
func slackOf(t *testing.T, cfg *config.Config) *slack.Config {
	t.Helper()
	s, ok := cfg.Channels.Plugins["slack"].(*slack.Config)
	if !ok {
		t.Fatalf("channels.slack decoded into %T", cfg.Channels.Plugins["slack"])
	}
	return s
}

func teamsOf(t *testing.T, cfg *config.Config) *teams.Config {
	t.Helper()
	c, ok := cfg.Channels.Plugins["teams"].(*teams.Config)
	if !ok {
		t.Fatalf("channels.teams decoded into %T", cfg.Channels.Plugins["teams"])
	}
	return c
}
