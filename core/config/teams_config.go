package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/secret"
)

// Bot Framework endpoints used when the Teams settings leave them empty.
const (
	DefaultTeamsOpenIDMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	DefaultTeamsIssuer            = "https://api.botframework.com"
	DefaultTeamsLoginURL          = "https://login.microsoftonline.com"
	DefaultTeamsScope             = "https://api.botframework.com/.default"
)

// DefaultTeamsServiceURLHosts are the host suffixes the Teams connector uses
// in the public cloud.
var DefaultTeamsServiceURLHosts = []string{"smba.trafficmanager.net"}

// Teams card action styles.
const (
	TeamsActionsSubmit  = "submit"
	TeamsActionsExecute = "execute"
)

// TeamsConfig configures the Microsoft Teams bot (a single-tenant Azure Bot).
// Empty optional fields take the defaults of the public cloud.
type TeamsConfig struct {
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
	// AgentIDs are the Entra ID object IDs of the help-desk agents allowed to
	// hand users to the bot, from the help-desk channel
	// (handoff.help_desk_teams_channel). Empty: nobody is an agent (being a
	// member of a team is no proof: team owners add members, guests included).
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
	IdentityMapping IdentityMapping `yaml:"identity_mapping"`
}

// EnrollPage reports whether enrollments go through the one-time page.
func (t TeamsConfig) EnrollPage() bool { return t.EnrollDelivery != EnrollDeliveryChat }

// MetadataURL returns the OpenID metadata URL, defaulted.
func (t TeamsConfig) MetadataURL() string {
	return teamsOr(t.OpenIDMetadataURL, DefaultTeamsOpenIDMetadataURL)
}

// TokenIssuer returns the expected token issuer, defaulted.
func (t TeamsConfig) TokenIssuer() string { return teamsOr(t.Issuer, DefaultTeamsIssuer) }

// TokenURL returns the tenant-specific client-credentials endpoint.
func (t TeamsConfig) TokenURL() string {
	return strings.TrimRight(teamsOr(t.LoginURL, DefaultTeamsLoginURL), "/") + "/" + url.PathEscape(t.TenantID) + "/oauth2/v2.0/token"
}

// TokenScope returns the client-credentials scope, defaulted.
func (t TeamsConfig) TokenScope() string { return teamsOr(t.Scope, DefaultTeamsScope) }

// AllowedServiceHosts returns the serviceUrl host suffixes, defaulted.
func (t TeamsConfig) AllowedServiceHosts() []string {
	if len(t.ServiceURLHosts) == 0 {
		return DefaultTeamsServiceURLHosts
	}
	return t.ServiceURLHosts
}

// ActionStyle returns "submit" or "execute", defaulted to submit.
func (t TeamsConfig) ActionStyle() string { return teamsOr(t.Actions, TeamsActionsSubmit) }

// CallTimeout returns the outbound call timeout, defaulted to 10s.
func (t TeamsConfig) CallTimeout() time.Duration {
	if t.Timeout <= 0 {
		return 10 * time.Second
	}
	return t.Timeout
}

func teamsOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (v *validator) teams(t TeamsConfig, publicURL string) {
	const p = "channels.teams"
	if !t.Enabled {
		return
	}
	if t.AppID == "" {
		v.errorf(p+".app_id", "is required when teams is enabled")
	}
	if t.AppPassword.Empty() {
		v.errorf(p+".app_password", "is required when teams is enabled")
	}
	if t.TenantID == "" {
		v.errorf(p+".tenant_id", "is required when teams is enabled (only your tenant may talk to the bot)")
	} else if strings.ContainsAny(t.TenantID, "/?#@ ") {
		v.errorf(p+".tenant_id", "must be a tenant ID (a GUID), not a URL")
	}
	for _, f := range []struct{ name, val string }{
		{"openid_metadata_url", t.OpenIDMetadataURL}, {"issuer", t.Issuer}, {"login_url", t.LoginURL},
	} {
		if f.val == "" {
			continue
		}
		if u, err := url.Parse(f.val); err != nil || u.Scheme != "https" || u.Host == "" {
			v.errorf(p+"."+f.name, "must be an absolute https URL")
		}
	}
	for i, h := range t.ServiceURLHosts {
		if h == "" || strings.ContainsAny(h, "/:@ ") {
			v.errorf(index(p+".service_url_hosts", i), "must be a host name suffix such as smba.trafficmanager.net")
		}
	}
	switch t.Actions {
	case "", TeamsActionsSubmit, TeamsActionsExecute:
	default:
		v.errorf(p+".actions", "must be submit or execute")
	}
	if t.ServiceURL != "" {
		if u, err := url.Parse(t.ServiceURL); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			v.errorf(p+".service_url", "must be an absolute https URL such as https://smba.trafficmanager.net/emea/")
		} else if !teamsHostAllowed(u.Hostname(), t.AllowedServiceHosts()) {
			v.errorf(p+".service_url", "must be on one of service_url_hosts")
		}
	}
	for i, id := range t.AgentIDs {
		if id == "" || strings.ContainsAny(id, "/:@ ") {
			v.errorf(index(p+".agent_ids", i), "must be an Entra ID object ID (a GUID)")
		}
	}
	if len(t.AgentIDs) == 0 && v.production() {
		v.warnf(p+".agent_ids", "is empty: nobody may hand users to the bot from Teams")
	}
	v.enrollDelivery(p+".enroll_delivery", t.EnrollDelivery, publicURL)
	v.identityMapping(p+".identity_mapping", t.IdentityMapping, true)
	if t.Timeout < 0 || t.Timeout > time.Minute {
		v.errorf(p+".timeout", "must be between 0 (default 10s) and 1m")
	}
}

func teamsHostAllowed(host string, suffixes []string) bool {
	host = strings.ToLower(host)
	for _, s := range suffixes {
		s = strings.ToLower(strings.TrimPrefix(s, "."))
		if host == s || strings.HasSuffix(host, "."+s) {
			return true
		}
	}
	return false
}
