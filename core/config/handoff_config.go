package config

import (
	"encoding/hex"
	"github.com/resetbot/resetbot/core/plugin"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/secret"
)

// Handoff API key scopes (core/handoff/apikey uses the same strings).
const (
	ScopeHandoffsCreate = "handoffs:create"
	ScopeHandoffsRead   = "handoffs:read"
	// ScopeBansLift lets a key lift the bot's pauses on an account.
	ScopeBansLift = "bans:lift"
)

// HandoffConfig configures help-desk handoffs: the ITSM API keys, their
// completion webhooks and where escalations go (docs/handoff.md).
type HandoffConfig struct {
	// TTL is how long a handoff stays open before it expires (24h).
	TTL time.Duration `yaml:"ttl"`
	// CodeTTL is the life of a phone handoff code (10m, at most 10m).
	CodeTTL time.Duration `yaml:"code_ttl"`
	// RatePerMinute is the per-key request limit of the API (60).
	RatePerMinute int `yaml:"rate_per_minute"`
	// WebhookTimeout bounds each webhook delivery attempt (10s).
	WebhookTimeout time.Duration `yaml:"webhook_timeout"`
	// APIKeys are the ITSM clients allowed to use /api/v1/handoffs.
	APIKeys []HandoffAPIKey `yaml:"api_keys"`
	// TicketWebhookURL receives escalation packets (https), signed with
	// TicketWebhookSecret.
	TicketWebhookURL    string        `yaml:"ticket_webhook_url"`
	TicketWebhookSecret secret.String `yaml:"ticket_webhook_secret"`
	// The help-desk chat channels that receive escalation packets as plain
	// text are set in each channel's own block
	// (channels.<key>.help_desk_channel); see movedKeys.
}

// HandoffAPIKey is one API client. The key itself is never configured: only
// its SHA-256 ("sha256:<64 hex>"); the client keeps the key.
type HandoffAPIKey struct {
	// ID names the key in audit records and in handoff requesters.
	ID string `yaml:"id"`
	// Hash is "sha256:" and the hex SHA-256 of the key.
	Hash string `yaml:"hash"`
	// Scopes are handoffs:create and/or handoffs:read.
	Scopes []string `yaml:"scopes"`
	// OUs are the DNs of the organisational units whose accounts this key may
	// hand to the bot (the account's DN must be inside one of them). A
	// handoff for anyone else fails with "not possible", like one for an
	// unknown user. Required in production for keys with handoffs:create.
	OUs []string `yaml:"ous"`
	// WebhookURL receives the signed completion webhook (https); optional.
	WebhookURL string `yaml:"webhook_url"`
	// WebhookSecret signs the completion webhook; required with WebhookURL.
	WebhookSecret secret.String `yaml:"webhook_secret"`
}

// Handoff defaults.
const (
	DefaultHandoffTTL            = 24 * time.Hour
	DefaultHandoffCodeTTL        = 10 * time.Minute
	DefaultHandoffRatePerMinute  = 60
	DefaultHandoffWebhookTimeout = 10 * time.Second
)

func defaultHandoff() HandoffConfig {
	return HandoffConfig{TTL: DefaultHandoffTTL, CodeTTL: DefaultHandoffCodeTTL,
		RatePerMinute: DefaultHandoffRatePerMinute, WebhookTimeout: DefaultHandoffWebhookTimeout}
}

var handoffKeyID = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func (v *validator) handoff(h *HandoffConfig) {
	const p = "handoff"
	v.positive(p+".ttl", h.TTL)
	if h.CodeTTL <= 0 || h.CodeTTL > 10*time.Minute {
		v.errorf(p+".code_ttl", "must be a duration between 1s and 10m")
	}
	if h.RatePerMinute < 1 || h.RatePerMinute > 100000 {
		v.errorf(p+".rate_per_minute", "must be between 1 and 100000")
	}
	if h.WebhookTimeout <= 0 || h.WebhookTimeout > time.Minute {
		v.errorf(p+".webhook_timeout", "must be a duration between 1s and 1m")
	}
	ids, hashes := map[string]bool{}, map[string]bool{}
	for i, k := range h.APIKeys {
		kp := index(p+".api_keys", i)
		switch {
		case !handoffKeyID.MatchString(k.ID):
			v.errorf(kp+".id", "must be 1 to 64 lower-case letters, digits, '.', '_' or '-'")
		case ids[k.ID]:
			v.errorf(kp+".id", "is used by another key")
		}
		ids[k.ID] = true
		hx, ok := strings.CutPrefix(k.Hash, "sha256:")
		if b, err := hex.DecodeString(hx); !ok || err != nil || len(b) != 32 || hx != strings.ToLower(hx) {
			v.errorf(kp+".hash", "must be sha256: and the 64 lower-case hex digits of the key's SHA-256 (never the key itself)")
		} else if hashes[hx] {
			v.errorf(kp+".hash", "is the hash of another key")
		}
		hashes[hx] = true
		if len(k.Scopes) == 0 {
			v.errorf(kp+".scopes", "must list handoffs:create, handoffs:read and/or bans:lift")
		}
		for _, s := range k.Scopes {
			if s != ScopeHandoffsCreate && s != ScopeHandoffsRead && s != ScopeBansLift {
				v.errorf(kp+".scopes", "unknown scope %q (handoffs:create, handoffs:read, bans:lift)", s)
			}
		}
		v.keyScope(kp, k)
		v.webhook(kp+".webhook_url", kp+".webhook_secret", k.WebhookURL, k.WebhookSecret)
	}
	v.webhook(p+".ticket_webhook_url", p+".ticket_webhook_secret", h.TicketWebhookURL, h.TicketWebhookSecret)
}

// keyScope checks a key's OU scope: DNs only; a create key needs one in
// production, so that no ITSM key can hand over any account it likes.
func (v *validator) keyScope(kp string, k HandoffAPIKey) {
	for i, ou := range k.OUs {
		if _, err := ldap.ParseDN(ou); err != nil || !strings.Contains(ou, "=") {
			v.errorf(index(kp+".ous", i), "must be the DN of an organisational unit, such as ou=people,dc=corp,dc=example")
		}
	}
	create := false
	for _, s := range k.Scopes {
		create = create || s == ScopeHandoffsCreate
	}
	if create && len(k.OUs) == 0 {
		if v.production() {
			v.errorf(kp+".ous", "is required in production for a key with handoffs:create (the OUs whose accounts it may hand over)")
		} else {
			v.warnf(kp+".ous", "is empty: this key may hand any account to the bot")
		}
	}
}

// webhook checks an outgoing webhook URL and its signing secret. URLs must be
// https; demo mode also accepts http to a loopback address.
func (v *validator) webhook(up, sp, raw string, sec secret.String) {
	if raw == "" {
		if !sec.Empty() {
			v.warnf(sp, "is set but %s is empty: nothing will be sent", up[strings.LastIndex(up, ".")+1:])
		}
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		v.errorf(up, "must be an absolute https URL")
	case u.User != nil || u.Fragment != "":
		v.errorf(up, "must not contain credentials or a fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && !v.production() && plugin.Loopback(u.Hostname()):
	default:
		v.errorf(up, "must be https (http only to a loopback address in demo mode)")
	}
	if sec.Empty() {
		v.errorf(sp, "is required with the webhook URL (receivers verify X-Resetbot-Signature with it)")
	} else if sec.Len() < 16 {
		v.errorf(sp, "must be at least 16 characters")
	}
}
