package config

import (
	"net"
	"net/url"
	"strings"

	"github.com/resetbot/resetbot/core/secret"
)

// Default Slack slash commands, used when the configuration leaves them empty.
const (
	DefaultSlackResetCommand  = "/resetpassword"
	DefaultSlackUnlockCommand = "/unlock"
	// DefaultSlackHandoffCommand is the help-desk agents' command
	// ("/handoff @user reset|unlock|verify").
	DefaultSlackHandoffCommand = "/handoff"
)

// SlackConfig configures the Slack app.
type SlackConfig struct {
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
	// AgentUserGroup set, the command is refused to everyone. Membership is checked on every
	// command.
	AgentUserGroup string `yaml:"agent_user_group"`
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
	IdentityMapping IdentityMapping `yaml:"identity_mapping"`
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

// APIBase returns APIURL with the trailing "/" the Slack client needs, or ""
// for the library's default.
func (s SlackConfig) APIBase() string {
	if s.APIURL == "" || strings.HasSuffix(s.APIURL, "/") {
		return s.APIURL
	}
	return s.APIURL + "/"
}

// Enrollment delivery modes (channels.slack/teams.enroll_delivery).
const (
	EnrollDeliveryPage = "page"
	EnrollDeliveryChat = "chat"
)

// EnrollPage reports whether enrollments go through the one-time page.
func (s SlackConfig) EnrollPage() bool { return s.EnrollDelivery != EnrollDeliveryChat }

// Commands returns the reset and unlock slash commands with defaults applied.
func (s SlackConfig) Commands() (reset, unlock string) {
	reset, unlock = s.ResetCommand, s.UnlockCommand
	if reset == "" {
		reset = DefaultSlackResetCommand
	}
	if unlock == "" {
		unlock = DefaultSlackUnlockCommand
	}
	return reset, unlock
}

func (v *validator) slack(s SlackConfig, publicURL string) {
	const p = "channels"
	if !s.Enabled {
		return
	}
	if s.BotToken.Empty() {
		v.errorf(p+".slack.bot_token", "is required when slack is enabled")
	}
	if s.SocketMode && s.AppToken.Empty() {
		v.errorf(p+".slack.app_token", "is required with socket_mode")
	}
	if !s.SocketMode && s.SigningSecret.Empty() {
		v.errorf(p+".slack.signing_secret", "is required when slack uses HTTP events")
	}
	if !s.SocketMode && publicURL == "" {
		v.errorf("server.public_url", "is required when slack uses HTTP events")
	}
	reset, unlock := s.Commands()
	for name, c := range map[string]string{"reset_command": reset, "unlock_command": unlock} {
		if !validSlashCommand(c) {
			v.errorf(p+".slack."+name, "must be a slash command such as /resetpassword (lower case, at most 32 characters)")
		}
	}
	if reset == unlock {
		v.errorf(p+".slack.unlock_command", "must differ from reset_command")
	}
	v.slackAgents(s)
	v.slackPins(s)
	v.enrollDelivery(p+".slack.enroll_delivery", s.EnrollDelivery, publicURL)
	if s.Workers < 0 || s.Workers > 256 {
		v.errorf(p+".slack.workers", "must be between 1 and 256 (0 = default 8)")
	}
	if s.Queue < 0 || s.Queue > 100000 {
		v.errorf(p+".slack.queue", "must be between 1 and 100000 (0 = default 256)")
	}
	v.apiURL(p+".slack.api_url", s.APIURL)
	v.identityMapping(p+".slack.identity_mapping", s.IdentityMapping, false)
	if len(s.AppName) > 35 {
		v.errorf(p+".slack.app_name", "must be at most 35 characters")
	}
}

// Handoff returns the agents' handoff slash command with its default applied.
func (s SlackConfig) Handoff() string {
	if s.HandoffCommand == "" {
		return DefaultSlackHandoffCommand
	}
	return s.HandoffCommand
}

// slackAgents validates the help-desk agent settings.
func (v *validator) slackAgents(s SlackConfig) {
	const p = "channels.slack."
	reset, unlock := s.Commands()
	if h := s.Handoff(); !validSlashCommand(h) {
		v.errorf(p+"handoff_command", "must be a slash command such as /handoff (lower case, at most 32 characters)")
	} else if h == reset || h == unlock {
		v.errorf(p+"handoff_command", "must differ from reset_command and unlock_command")
	}
	if s.AgentChannel != "" && !slackID(s.AgentChannel, "CG") {
		v.errorf(p+"agent_channel", "must be a channel ID such as C0123ABCD (not a #name)")
	}
	for i, id := range s.AgentIDs {
		if !slackID(id, "UW") {
			v.errorf(index(p+"agent_ids", i), "must be a user ID such as U0123ABCD (not a @name)")
		}
	}
	if s.AgentUserGroup != "" && !slackID(s.AgentUserGroup, "S") {
		v.errorf(p+"agent_user_group", "must be a user group ID such as S0123ABCD (not a @handle)")
	}
}

// slackPins validates the workspace, organisation and app pins. Production
// refuses to run without them: a signing secret alone does not say which
// workspace or app a request was meant for.
func (v *validator) slackPins(s SlackConfig) {
	const p = "channels.slack."
	for i, t := range s.TeamIDs {
		if !slackID(t, "T") {
			v.errorf(index(p+"team_ids", i), "must be a workspace ID such as T0123ABCD")
		}
	}
	if s.EnterpriseID != "" && !slackID(s.EnterpriseID, "E") {
		v.errorf(p+"enterprise_id", "must be an Enterprise Grid ID such as E0123ABCD")
	}
	if s.APIAppID != "" && !slackID(s.APIAppID, "A") {
		v.errorf(p+"api_app_id", "must be an app ID such as A0123ABCD")
	}
	if !v.production() {
		return
	}
	if len(s.TeamIDs) == 0 {
		v.errorf(p+"team_ids", "is required in production (the workspace IDs the bot serves)")
	}
	if s.APIAppID == "" {
		v.errorf(p+"api_app_id", "is required in production (the app's ID, from its Basic Information page)")
	}
}

// enrollDelivery validates an enroll_delivery setting: the page needs a
// public URL, https in production.
func (v *validator) enrollDelivery(p, mode, publicURL string) {
	switch mode {
	case "", EnrollDeliveryPage:
		// server validation already insists on https in production.
		if publicURL == "" {
			v.errorf("server.public_url", "is required for the enrollment page (%s: page, the default); or set %s: chat", p, p)
		}
	case EnrollDeliveryChat:
		v.warnf(p, "chat puts the authenticator QR code (the TOTP seed) in the chat platform's storage until it is deleted; page is safer")
	default:
		v.errorf(p, "must be page or chat")
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

// apiURL checks an outbound API base URL that receives credentials: an
// absolute https URL without query or credentials; plain http only to a
// loopback address (a local proxy, a test fake).
func (v *validator) apiURL(key, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		v.errorf(key, "must be an absolute URL such as https://proxy.example.com/api/ (no credentials or query)")
		return
	}
	switch u.Scheme {
	case "https":
	case "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			v.errorf(key, "must use https (plain http only to a loopback address): the credentials travel with every call")
		}
	default:
		v.errorf(key, "must be an https URL")
	}
}
