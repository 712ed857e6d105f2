package slack

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/resetbot/resetbot/bot/chatid"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
)

// Default Slack slash commands, used when the configuration leaves them empty.
const (
	DefaultResetCommand  = "/resetpassword"
	DefaultUnlockCommand = "/unlock"
	// DefaultHandoffCommand is the help-desk agents' command
	// ("/handoff @user reset|unlock|verify").
	DefaultHandoffCommand = "/handoff"
)

// Defaults applied where a setting is used (the adapter accepts zero
// values); Effective shows them in `check-config -summary`.
const (
	DefaultAppName = "resetbot"
	DefaultWorkers = 64
	DefaultQueue   = 256
)

// Enrollment delivery modes (channels.slack.enroll_delivery).
const (
	EnrollDeliveryPage = "page"
	EnrollDeliveryChat = "chat"
)

// Config is the channels.slack block. The adapter owns it: it is decoded
// into this type (plugins.All registers NewConfig), validated by Validate
// and opened by Open; nothing else in resetbot defines these settings.
type Config struct {
	Enabled bool `yaml:"enabled"`
	// SigningSecret verifies Events API and interactivity requests.
	SigningSecret secret.String `yaml:"signing_secret"`
	// BotToken (xoxb-) calls the Web API.
	BotToken secret.String `yaml:"bot_token"`
	// AppToken (xapp-) opens Socket Mode connections.
	AppToken   secret.String `yaml:"app_token"`
	SocketMode bool          `yaml:"socket_mode"`
	// AppName is the app's display name in the generated manifest.
	AppName string `yaml:"app_name"`
	// ResetCommand and UnlockCommand are the slash commands ("/resetpassword",
	// "/unlock" when empty).
	ResetCommand  string `yaml:"reset_command"`
	UnlockCommand string `yaml:"unlock_command"`
	// HandoffCommand is the help-desk agents' slash command that hands a
	// user to the bot ("/handoff" when empty).
	HandoffCommand string `yaml:"handoff_command"`
	// AgentChannel is the ID (C… or G…) of the help-desk channel whose
	// members may run HandoffCommand; the live status of their handoffs is
	// posted there as threads. Empty: status goes to the agent's DM.
	AgentChannel string `yaml:"agent_channel"`
	// AgentIDs are Slack user IDs (U… or W…) allowed to run HandoffCommand,
	// in addition to the members of AgentChannel and AgentUserGroup.
	AgentIDs []string `yaml:"agent_ids"`
	// AgentUserGroup is the ID (S…) of a Slack user group whose members may
	// run HandoffCommand. With none of AgentIDs, AgentChannel and
	// AgentUserGroup set, the command is refused to everyone. Membership is
	// checked on every command.
	AgentUserGroup string `yaml:"agent_user_group"`
	// HelpDeskChannel is the channel ID (C… or G…) escalation packets are
	// posted to as plain text; empty: Slack is no escalation destination.
	HelpDeskChannel string `yaml:"help_desk_channel"`
	// TeamIDs is the allowlist of workspaces (team_id) whose requests are
	// served; others are refused and audited. Required in production.
	TeamIDs []string `yaml:"team_ids"`
	// EnterpriseID pins the Enterprise Grid organisation (E…): when set,
	// requests from any other organisation, or from none, are refused; when
	// empty, requests that carry an enterprise_id are refused.
	EnterpriseID string `yaml:"enterprise_id"`
	// APIAppID pins this Slack app (A…): a request signed for another app
	// that shares the signing secret is refused. Required in production.
	APIAppID string `yaml:"api_app_id"`
	// EnrollDelivery is how an authenticator enrollment is shown: "page"
	// (default: a one-time link to a page served by resetbot, so the seed
	// never enters Slack) or "chat" (opt-in: the QR code uploaded to the DM,
	// deleted afterwards, the setup key in an ephemeral note).
	EnrollDelivery string `yaml:"enroll_delivery"`
	// AllowGuests lets Slack guest accounts (restricted users) use the bot.
	AllowGuests bool `yaml:"allow_guests"`
	// IdentityMapping maps the Slack profile email, once Slack has
	// confirmed it, to a directory account (default: email against mail).
	IdentityMapping chatid.Mapping `yaml:"identity_mapping"`
	// Workers and Queue size the pool that runs turns before Slack is
	// acknowledged (defaults 64 and 256). A worker spends most of a turn
	// waiting on Redis and the Web API, so the pool is sized for that wait:
	// with 8 workers a replica served at most 8 / (turn latency) turns per
	// second, whatever its CPU (about 2,000/s at 4 ms).
	Workers int `yaml:"workers"`
	Queue   int `yaml:"queue"`
	// APIURL is the Web API base URL (default https://slack.com/api/), for
	// an egress proxy or a gateway in front of Slack. The bot token is sent
	// there, so it must be https (plain http only to a loopback address).
	APIURL string `yaml:"api_url"`
}

// NewConfig returns the channel's settings with their defaults (all zero:
// the adapter applies them at use): the registry entry (plugins.All) the
// configuration framework decodes channels.slack into.
func NewConfig() plugin.Config { return &Config{} }

// APIBase returns APIURL with the trailing "/" the Slack client needs, or ""
// for the library's default.
func (s Config) APIBase() string {
	if s.APIURL == "" || strings.HasSuffix(s.APIURL, "/") {
		return s.APIURL
	}
	return s.APIURL + "/"
}

// EnrollPage reports whether enrollments go through the one-time page.
func (s Config) EnrollPage() bool { return s.EnrollDelivery != EnrollDeliveryChat }

// Commands returns the reset and unlock slash commands with defaults applied.
func (s Config) Commands() (reset, unlock string) {
	return or(s.ResetCommand, DefaultResetCommand), or(s.UnlockCommand, DefaultUnlockCommand)
}

// Handoff returns the agents' handoff slash command with its default applied.
func (s Config) Handoff() string { return or(s.HandoffCommand, DefaultHandoffCommand) }

// Effective returns a copy with the use-time defaults filled in, for
// `check-config -summary` (the values in force, not workers: 0).
func (s *Config) Effective() plugin.Config {
	e := *s
	e.AppName = or(e.AppName, DefaultAppName)
	e.ResetCommand, e.UnlockCommand = e.Commands()
	e.HandoffCommand = e.Handoff()
	if e.Workers <= 0 {
		e.Workers = DefaultWorkers
	}
	if e.Queue <= 0 {
		e.Queue = DefaultQueue
	}
	return &e
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// The channel's answers to the configuration's cross-section checks
// (core/config.Channel and its optional interfaces).

// ChannelName is the engine name: sessions, handoffs, factors.require and
// chat destinations say "slack".
func (s *Config) ChannelName() string { return Channel }

// ChannelEnabled reports whether channels.slack.enabled is set.
func (s *Config) ChannelEnabled() bool { return s.Enabled }

// HelpDeskTarget is the help-desk channel escalation packets go to.
func (s *Config) HelpDeskTarget() string { return s.HelpDeskChannel }

// OutreachCapable: Slack sends outreach notices and expiry reminders.
func (s *Config) OutreachCapable() bool { return true }

var channelID = regexp.MustCompile(`^[CG][A-Z0-9]{6,}$`)

// CheckChatTarget says what is wrong with target as a conversation to post
// alarms and reports to, or "".
func (s *Config) CheckChatTarget(target string) string {
	if !channelID.MatchString(target) {
		return "must be a Slack channel ID such as C0123ABCD (not a #name)"
	}
	return ""
}

// Validate reports every problem of an enabled block, each at its own path
// below path ("channels.slack"); check-config and serve share it.
func (s *Config) Validate(c plugin.Checker, path string) {
	if !s.Enabled {
		return
	}
	p := path + "."
	publicURL, knowsURL := plugin.PublicURL(c)
	if s.BotToken.Empty() {
		c.Errorf(p+"bot_token", "is required when slack is enabled")
	}
	if s.SocketMode && s.AppToken.Empty() {
		c.Errorf(p+"app_token", "is required with socket_mode")
	}
	if !s.SocketMode && s.SigningSecret.Empty() {
		c.Errorf(p+"signing_secret", "is required when slack uses HTTP events")
	}
	if !s.SocketMode && knowsURL && publicURL == "" {
		c.Errorf("server.public_url", "is required when slack uses HTTP events")
	}
	reset, unlock := s.Commands()
	if !validSlashCommand(reset) {
		c.Errorf(p+"reset_command", "must be a slash command such as /resetpassword (lower case, at most 32 characters)")
	}
	if !validSlashCommand(unlock) {
		c.Errorf(p+"unlock_command", "must be a slash command such as /resetpassword (lower case, at most 32 characters)")
	}
	if reset == unlock {
		c.Errorf(p+"unlock_command", "must differ from reset_command")
	}
	s.validateAgents(c, p)
	s.validatePins(c, p)
	if s.HelpDeskChannel != "" && !slackID(s.HelpDeskChannel, "CG") {
		c.Errorf(p+"help_desk_channel", "must be a channel ID such as C0123ABCD (not a #name)")
	}
	enrollDelivery(c, p+"enroll_delivery", s.EnrollDelivery, publicURL, knowsURL)
	if s.Workers < 0 || s.Workers > 256 {
		c.Errorf(p+"workers", "must be between 1 and 256 (0 = default 64)")
	}
	if s.Queue < 0 || s.Queue > 100000 {
		c.Errorf(p+"queue", "must be between 1 and 100000 (0 = default 256)")
	}
	plugin.CheckCredentialURL(c, p+"api_url", s.APIURL)
	s.IdentityMapping.Validate(c, p+"identity_mapping", chatid.ChatSources)
	if len(s.AppName) > 35 {
		c.Errorf(p+"app_name", "must be at most 35 characters")
	}
}

// validateAgents validates the help-desk agent settings.
func (s *Config) validateAgents(c plugin.Checker, p string) {
	reset, unlock := s.Commands()
	if h := s.Handoff(); !validSlashCommand(h) {
		c.Errorf(p+"handoff_command", "must be a slash command such as /handoff (lower case, at most 32 characters)")
	} else if h == reset || h == unlock {
		c.Errorf(p+"handoff_command", "must differ from reset_command and unlock_command")
	}
	if s.AgentChannel != "" && !slackID(s.AgentChannel, "CG") {
		c.Errorf(p+"agent_channel", "must be a channel ID such as C0123ABCD (not a #name)")
	}
	for i, id := range s.AgentIDs {
		if !slackID(id, "UW") {
			c.Errorf(index(p+"agent_ids", i), "must be a user ID such as U0123ABCD (not a @name)")
		}
	}
	if s.AgentUserGroup != "" && !slackID(s.AgentUserGroup, "S") {
		c.Errorf(p+"agent_user_group", "must be a user group ID such as S0123ABCD (not a @handle)")
	}
}

// validatePins validates the workspace, organisation and app pins.
// Production refuses to run without them: a signing secret alone does not
// say which workspace or app a request was meant for.
func (s *Config) validatePins(c plugin.Checker, p string) {
	for i, t := range s.TeamIDs {
		if !slackID(t, "T") {
			c.Errorf(index(p+"team_ids", i), "must be a workspace ID such as T0123ABCD")
		}
	}
	if s.EnterpriseID != "" && !slackID(s.EnterpriseID, "E") {
		c.Errorf(p+"enterprise_id", "must be an Enterprise Grid ID such as E0123ABCD")
	}
	if s.APIAppID != "" && !slackID(s.APIAppID, "A") {
		c.Errorf(p+"api_app_id", "must be an app ID such as A0123ABCD")
	}
	if !c.Production() {
		return
	}
	if len(s.TeamIDs) == 0 {
		c.Errorf(p+"team_ids", "is required in production (the workspace IDs the bot serves)")
	}
	if s.APIAppID == "" {
		c.Errorf(p+"api_app_id", "is required in production (the app's ID, from its Basic Information page)")
	}
}

// enrollDelivery validates enroll_delivery: the page needs a public URL.
func enrollDelivery(c plugin.Checker, p, mode, publicURL string, knowsURL bool) {
	switch mode {
	case "", EnrollDeliveryPage:
		// server validation already insists on https in production.
		if knowsURL && publicURL == "" {
			c.Errorf("server.public_url", "is required for the enrollment page (%s: page, the default); or set %s: chat", p, p)
		}
	case EnrollDeliveryChat:
		c.Warnf(p, "chat puts the authenticator QR code (the TOTP seed) in the chat platform's storage until it is deleted; page is safer")
	default:
		c.Errorf(p, "must be page or chat")
	}
}

// slackID accepts a Slack object ID starting with one of prefixes.
func slackID(id, prefixes string) bool {
	if len(id) < 3 || len(id) > 24 || !strings.ContainsRune(prefixes, rune(id[0])) {
		return false
	}
	return strings.IndexFunc(id, func(r rune) bool { return (r < 'A' || r > 'Z') && (r < '0' || r > '9') }) < 0
}

// validSlashCommand accepts what Slack accepts for command names.
func validSlashCommand(c string) bool {
	if len(c) < 2 || len(c) > 32 || c[0] != '/' {
		return false
	}
	return strings.IndexFunc(c[1:], func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_'
	}) < 0
}

func index(p string, i int) string { return p + "[" + strconv.Itoa(i) + "]" }
