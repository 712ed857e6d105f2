package teams

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/resetbot/resetbot/bot/chatid"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
)

// Bot Framework endpoints used when the settings leave them empty.
const (
	DefaultOpenIDMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	DefaultIssuer            = "https://api.botframework.com"
	DefaultLoginURL          = "https://login.microsoftonline.com"
	DefaultScope             = "https://api.botframework.com/.default"
	// DefaultTimeout bounds each outbound call when timeout is 0.
	DefaultTimeout = 10 * time.Second
)

// DefaultServiceURLHosts are the host suffixes the Teams connector uses in
// the public cloud.
var DefaultServiceURLHosts = []string{"smba.trafficmanager.net"}

// Card action styles (channels.teams.actions).
const (
	ActionsSubmit  = "submit"
	ActionsExecute = "execute"
)

// Enrollment delivery modes (channels.teams.enroll_delivery).
const (
	EnrollDeliveryPage = "page"
	EnrollDeliveryChat = "chat"
)

// Config is the channels.teams block: a single-tenant Azure Bot. The
// adapter owns it (plugins.All registers NewConfig; Validate and Open are
// its only validator and opener). Empty optional fields take the defaults of
// the public cloud.
type Config struct {
	Enabled bool `yaml:"enabled"`
	// AppID is the bot's Microsoft App ID; inbound tokens must carry it as
	// audience. It is required: an empty app ID would accept any token.
	AppID string `yaml:"app_id"`
	// AppPassword is the client secret used to get tokens for replies.
	AppPassword secret.String `yaml:"app_password"`
	// TenantID is your Entra ID tenant: only its users may talk to the bot,
	// and reply tokens come from its token endpoint.
	TenantID string `yaml:"tenant_id"`
	// OpenIDMetadataURL is where the Bot Framework signing keys are found.
	OpenIDMetadataURL string `yaml:"openid_metadata_url"`
	// Issuer is the expected "iss" of inbound tokens.
	Issuer string `yaml:"issuer"`
	// LoginURL is the Entra ID base; tokens come from {login_url}/{tenant_id}/oauth2/v2.0/token.
	LoginURL string `yaml:"login_url"`
	// Scope is requested with client credentials.
	Scope string `yaml:"scope"`
	// ServiceURLHosts are the host suffixes an activity's serviceUrl may have;
	// the bot never sends its token anywhere else.
	ServiceURLHosts []string `yaml:"service_url_hosts"`
	// Actions is how card buttons answer: "submit" (Action.Submit, the card is
	// updated in place) or "execute" (Action.Execute, Universal Actions).
	Actions string `yaml:"actions"`
	// Timeout bounds each call to the token endpoint and the connector.
	Timeout time.Duration `yaml:"timeout"`
	// ServiceURL is the connector base for messages the bot starts itself
	// (help-desk handoffs, escalation packets), e.g.
	// https://smba.trafficmanager.net/emea/. Empty: the serviceUrl of the
	// latest authenticated activity is used.
	ServiceURL string `yaml:"service_url"`
	// HelpDeskChannel is the help-desk channel's conversation ID
	// (19:…@thread.tacv2): escalation packets are posted there and agents
	// hand users to the bot from there. Empty: Teams is no escalation
	// destination and nobody hands users over from Teams.
	HelpDeskChannel string `yaml:"help_desk_channel"`
	// AgentIDs are the Entra ID object IDs of the help-desk agents allowed to
	// hand users to the bot, from the help-desk channel (help_desk_channel).
	// Empty: nobody is an agent (being a member of a team is no proof: team
	// owners add members, guests included).
	AgentIDs []string `yaml:"agent_ids"`
	// AllowGuests lets Entra B2B guests (userRole guest, #EXT# UPNs, another
	// home tenant) use the bot. Off: they are refused, as on Slack.
	AllowGuests bool `yaml:"allow_guests"`
	// EnrollDelivery is how an authenticator enrollment is shown: "page"
	// (default: a one-time link to a page served by resetbot, so the seed
	// never enters Teams) or "chat" (opt-in: the QR code in the card, which is
	// frozen afterwards).
	EnrollDelivery string `yaml:"enroll_delivery"`
	// IdentityMapping maps the member's UPN, email or Entra object ID to a
	// directory account (default: the member's email against mail).
	IdentityMapping chatid.Mapping `yaml:"identity_mapping"`
}

// NewConfig returns the channel's settings with their defaults (all zero:
// the adapter applies them at use): the registry entry (plugins.All) the
// configuration framework decodes channels.teams into.
func NewConfig() plugin.Config { return &Config{} }

// EnrollPage reports whether enrollments go through the one-time page.
func (t Config) EnrollPage() bool { return t.EnrollDelivery != EnrollDeliveryChat }

// MetadataURL returns the OpenID metadata URL, defaulted.
func (t Config) MetadataURL() string { return or(t.OpenIDMetadataURL, DefaultOpenIDMetadataURL) }

// TokenIssuer returns the expected token issuer, defaulted.
func (t Config) TokenIssuer() string { return or(t.Issuer, DefaultIssuer) }

// TokenURL returns the tenant-specific client-credentials endpoint.
func (t Config) TokenURL() string {
	return strings.TrimRight(or(t.LoginURL, DefaultLoginURL), "/") + "/" + url.PathEscape(t.TenantID) + "/oauth2/v2.0/token"
}

// TokenScope returns the client-credentials scope, defaulted.
func (t Config) TokenScope() string { return or(t.Scope, DefaultScope) }

// AllowedServiceHosts returns the serviceUrl host suffixes, defaulted.
func (t Config) AllowedServiceHosts() []string {
	if len(t.ServiceURLHosts) == 0 {
		return DefaultServiceURLHosts
	}
	return t.ServiceURLHosts
}

// ActionStyle returns "submit" or "execute", defaulted to submit.
func (t Config) ActionStyle() string { return or(t.Actions, ActionsSubmit) }

// CallTimeout returns the outbound call timeout, defaulted to 10s.
func (t Config) CallTimeout() time.Duration {
	if t.Timeout <= 0 {
		return DefaultTimeout
	}
	return t.Timeout
}

// Effective returns a copy with the use-time defaults filled in, for
// `check-config -summary`.
func (t *Config) Effective() plugin.Config {
	e := *t
	e.OpenIDMetadataURL, e.Issuer = e.MetadataURL(), e.TokenIssuer()
	e.LoginURL = or(e.LoginURL, DefaultLoginURL)
	e.Scope, e.Actions, e.Timeout = e.TokenScope(), e.ActionStyle(), e.CallTimeout()
	e.ServiceURLHosts = slices.Clone(e.AllowedServiceHosts())
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
// chat destinations say "teams".
func (t *Config) ChannelName() string { return Channel }

// ChannelEnabled reports whether channels.teams.enabled is set.
func (t *Config) ChannelEnabled() bool { return t.Enabled }

// HelpDeskTarget is the help-desk conversation escalation packets go to.
func (t *Config) HelpDeskTarget() string { return t.HelpDeskChannel }

// OutreachCapable: Teams sends outreach notices and expiry reminders.
func (t *Config) OutreachCapable() bool { return true }

// CheckChatTarget says what is wrong with target as a conversation to post
// alarms and reports to, or "".
func (t *Config) CheckChatTarget(target string) string {
	if !strings.HasPrefix(target, "19:") {
		return "must be a Teams channel conversation ID (19:...@thread.tacv2)"
	}
	return ""
}

// Validate reports every problem of an enabled block, each at its own path
// below path ("channels.teams"); check-config and serve share it.
func (t *Config) Validate(c plugin.Checker, path string) {
	if !t.Enabled {
		return
	}
	p := path + "."
	if t.AppID == "" {
		c.Errorf(p+"app_id", "is required when teams is enabled")
	}
	if t.AppPassword.Empty() {
		c.Errorf(p+"app_password", "is required when teams is enabled")
	}
	if t.TenantID == "" {
		c.Errorf(p+"tenant_id", "is required when teams is enabled (only your tenant may talk to the bot)")
	} else if strings.ContainsAny(t.TenantID, "/?#@ ") {
		c.Errorf(p+"tenant_id", "must be a tenant ID (a GUID), not a URL")
	}
	for _, f := range []struct{ name, val string }{
		{"openid_metadata_url", t.OpenIDMetadataURL}, {"issuer", t.Issuer}, {"login_url", t.LoginURL},
	} {
		if f.val == "" {
			continue
		}
		if u, err := url.Parse(f.val); err != nil || u.Scheme != "https" || u.Host == "" {
			c.Errorf(p+f.name, "must be an absolute https URL")
		}
	}
	for i, h := range t.ServiceURLHosts {
		if h == "" || strings.ContainsAny(h, "/:@ ") {
			c.Errorf(index(p+"service_url_hosts", i), "must be a host name suffix such as smba.trafficmanager.net")
		}
	}
	switch t.Actions {
	case "", ActionsSubmit, ActionsExecute:
	default:
		c.Errorf(p+"actions", "must be submit or execute")
	}
	t.validateServiceURL(c, p)
	if t.HelpDeskChannel != "" {
		if msg := t.CheckChatTarget(t.HelpDeskChannel); msg != "" {
			c.Errorf(p+"help_desk_channel", "%s", msg)
		}
	}
	for i, id := range t.AgentIDs {
		if id == "" || strings.ContainsAny(id, "/:@ ") {
			c.Errorf(index(p+"agent_ids", i), "must be an Entra ID object ID (a GUID)")
		}
	}
	if len(t.AgentIDs) == 0 && c.Production() {
		c.Warnf(p+"agent_ids", "is empty: nobody may hand users to the bot from Teams")
	}
	t.validateEnrollDelivery(c, p+"enroll_delivery")
	t.IdentityMapping.Validate(c, p+"identity_mapping",
		append(slices.Clone(chatid.ChatSources), chatid.FromUPN, chatid.FromObjectID))
	if t.Timeout < 0 || t.Timeout > time.Minute {
		c.Errorf(p+"timeout", "must be between 0 (default 10s) and 1m")
	}
}

func (t *Config) validateServiceURL(c plugin.Checker, p string) {
	if t.ServiceURL == "" {
		return
	}
	if u, err := url.Parse(t.ServiceURL); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		c.Errorf(p+"service_url", "must be an absolute https URL such as https://smba.trafficmanager.net/emea/")
	} else if !hostAllowed(u.Hostname(), t.AllowedServiceHosts()) {
		c.Errorf(p+"service_url", "must be on one of service_url_hosts")
	}
}

// validateEnrollDelivery checks enroll_delivery: the page needs a public URL.
func (t *Config) validateEnrollDelivery(c plugin.Checker, p string) {
	switch t.EnrollDelivery {
	case "", EnrollDeliveryPage:
		// server validation already insists on https in production.
		if u, known := plugin.PublicURL(c); known && u == "" {
			c.Errorf("server.public_url", "is required for the enrollment page (%s: page, the default); or set %s: chat", p, p)
		}
	case EnrollDeliveryChat:
		c.Warnf(p, "chat puts the authenticator QR code (the TOTP seed) in the chat platform's storage until it is deleted; page is safer")
	default:
		c.Errorf(p, "must be page or chat")
	}
}

func hostAllowed(host string, suffixes []string) bool {
	host = strings.ToLower(host)
	for _, s := range suffixes {
		s = strings.ToLower(strings.TrimPrefix(s, "."))
		if host == s || strings.HasSuffix(host, "."+s) {
			return true
		}
	}
	return false
}

func index(p string, i int) string { return p + "[" + strconv.Itoa(i) + "]" }
