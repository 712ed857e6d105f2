package slack

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// BotScopes are the OAuth bot scopes the adapter uses, each for one call:
// app_mentions:read (app_mention), chat:write (replies, ephemeral notes),
// commands (slash commands and shortcuts), im:history (message.im), im:write
// (conversations.open), users:read and users:read.email (users.info email
// and locale, users.lookupByEmail for handoffs), files:write (the enrollment
// QR image with enroll_delivery: chat, deleted afterwards; left out of the
// manifest otherwise), channels:read and groups:read
// (conversations.members of the agent channel, public or private),
// usergroups:read (usergroups.users.list of the agent user group).
var BotScopes = []string{"app_mentions:read", "channels:read", "chat:write", "commands", "files:write",
	"groups:read", "im:history", "im:write", "usergroups:read", "users:read", "users:read.email"}

// Manifest is a Slack app manifest
// (https://docs.slack.dev/reference/app-manifest).
type Manifest struct {
	DisplayInformation ManifestDisplay  `yaml:"display_information" json:"display_information"`
	Features           ManifestFeatures `yaml:"features" json:"features"`
	OAuthConfig        ManifestOAuth    `yaml:"oauth_config" json:"oauth_config"`
	Settings           ManifestSettings `yaml:"settings" json:"settings"`
}

// ManifestDisplay is the app's name and description.
type ManifestDisplay struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
}

// ManifestFeatures are the bot user, App Home, shortcuts and slash commands.
type ManifestFeatures struct {
	AppHome       ManifestAppHome        `yaml:"app_home" json:"app_home"`
	BotUser       ManifestBotUser        `yaml:"bot_user" json:"bot_user"`
	Shortcuts     []ManifestShortcut     `yaml:"shortcuts" json:"shortcuts"`
	SlashCommands []ManifestSlashCommand `yaml:"slash_commands" json:"slash_commands"`
}

// ManifestShortcut is a global (lightning menu) or message (⋮ on a
// message) shortcut; its callback ID names the flow it starts.
type ManifestShortcut struct {
	Name        string `yaml:"name" json:"name"`
	Type        string `yaml:"type" json:"type"`
	CallbackID  string `yaml:"callback_id" json:"callback_id"`
	Description string `yaml:"description" json:"description"`
}

// ManifestAppHome enables the Home tab (buttons that start each flow) and
// the Messages tab (the DM with the bot).
type ManifestAppHome struct {
	HomeTabEnabled             bool `yaml:"home_tab_enabled" json:"home_tab_enabled"`
	MessagesTabEnabled         bool `yaml:"messages_tab_enabled" json:"messages_tab_enabled"`
	MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled" json:"messages_tab_read_only_enabled"`
}

// ManifestBotUser is the bot's display name.
type ManifestBotUser struct {
	DisplayName  string `yaml:"display_name" json:"display_name"`
	AlwaysOnline bool   `yaml:"always_online" json:"always_online"`
}

// ManifestSlashCommand is one slash command; URL is empty in Socket Mode.
type ManifestSlashCommand struct {
	Command      string `yaml:"command" json:"command"`
	URL          string `yaml:"url,omitempty" json:"url,omitempty"`
	Description  string `yaml:"description" json:"description"`
	ShouldEscape bool   `yaml:"should_escape" json:"should_escape"`
}

// ManifestOAuth lists the bot scopes.
type ManifestOAuth struct {
	Scopes struct {
		Bot []string `yaml:"bot" json:"bot"`
	} `yaml:"scopes" json:"scopes"`
}

// ManifestSettings are events, interactivity and Socket Mode.
type ManifestSettings struct {
	EventSubscriptions   ManifestEvents        `yaml:"event_subscriptions" json:"event_subscriptions"`
	Interactivity        ManifestInteractivity `yaml:"interactivity" json:"interactivity"`
	OrgDeployEnabled     bool                  `yaml:"org_deploy_enabled" json:"org_deploy_enabled"`
	SocketModeEnabled    bool                  `yaml:"socket_mode_enabled" json:"socket_mode_enabled"`
	TokenRotationEnabled bool                  `yaml:"token_rotation_enabled" json:"token_rotation_enabled"`
}

// ManifestEvents is the Events API subscription.
type ManifestEvents struct {
	RequestURL string   `yaml:"request_url,omitempty" json:"request_url,omitempty"`
	BotEvents  []string `yaml:"bot_events" json:"bot_events"`
}

// ManifestInteractivity is where buttons and modals are sent.
type ManifestInteractivity struct {
	IsEnabled  bool   `yaml:"is_enabled" json:"is_enabled"`
	RequestURL string `yaml:"request_url,omitempty" json:"request_url,omitempty"`
}

// BuildManifest describes the Slack app the configuration serves: the same
// commands, events and paths the handlers route. In Socket Mode no URL is
// given (Slack delivers over the WebSocket).
func BuildManifest(cfg Config, publicURL string) Manifest {
	name := cfg.AppName
	if name == "" {
		name = "resetbot"
	}
	base := strings.TrimRight(publicURL, "/")
	url := func(path string) string {
		if cfg.SocketMode {
			return ""
		}
		return base + path
	}
	reset, unlock := cfg.Commands()
	var m Manifest
	m.DisplayInformation = ManifestDisplay{Name: name,
		Description: "Self-service password reset and account unlock."}
	m.Features.AppHome = ManifestAppHome{HomeTabEnabled: true, MessagesTabEnabled: true}
	m.Features.Shortcuts = []ManifestShortcut{
		{Name: "Reset my password", Type: "global", CallbackID: callbackReset, Description: "Reset your password"},
		{Name: "Unlock my account", Type: "global", CallbackID: callbackUnlock, Description: "Unlock your account"},
		{Name: "Reset my password", Type: "message", CallbackID: callbackReset, Description: "Reset your password"},
	}
	m.Features.BotUser = ManifestBotUser{DisplayName: name, AlwaysOnline: true}
	m.Features.SlashCommands = []ManifestSlashCommand{
		{Command: reset, URL: url(PathCommands), Description: "Reset your password"},
		{Command: unlock, URL: url(PathCommands), Description: "Unlock your account"},
		// Escaped, so that a mention arrives as <@U123|name>.
		{Command: cfg.Handoff(), URL: url(PathCommands), ShouldEscape: true,
			Description: "Help desk: hand a person to the bot (@person reset|unlock|verify)"},
	}
	for _, sc := range BotScopes {
		// files:write only uploads the enrollment QR: with the enrollment page
		// (the default) the app does not need it, and should not hold it.
		if sc == "files:write" && cfg.EnrollPage() {
			continue
		}
		m.OAuthConfig.Scopes.Bot = append(m.OAuthConfig.Scopes.Bot, sc)
	}
	m.Settings = ManifestSettings{SocketModeEnabled: cfg.SocketMode,
		EventSubscriptions: ManifestEvents{RequestURL: url(PathEvents), BotEvents: append([]string(nil), ServedEvents...)},
		Interactivity:      ManifestInteractivity{IsEnabled: true, RequestURL: url(PathInteractivity)}}
	return m
}

// YAML renders the manifest for pasting into "Create an app → From a manifest".
func (m Manifest) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
