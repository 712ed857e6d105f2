package twilio

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
)

// Defaults of the account's settings, applied where they are used (New) and
// shown by `check-config -summary` (Account.Effective).
const (
	DefaultSMSAPI          = APIMessages
	DefaultRequestTimeout  = 10 * time.Second
	DefaultMaxSendsPerHour = 500
)

// Account is the Twilio account that sends SMS and code calls, and whose
// auth token signs Twilio's webhooks. Its settings sit in the phone
// channel's block (channels.twilio), which embeds it inline, and
// notify.sms.provider: twilio selects it; this package owns them, so the
// notifier and the phone channel read one validated value.
type Account struct {
	AccountSID string        `yaml:"account_sid"`
	AuthToken  secret.String `yaml:"auth_token"`
	// FromNumber is the E.164 number SMS and calls come from.
	FromNumber string `yaml:"from_number"`
	// SMSAPI is "messages" (default) or "verify".
	SMSAPI string `yaml:"sms_api"`
	// VerifyServiceSID is the Verify service (VA...) used when SMSAPI is verify.
	VerifyServiceSID string `yaml:"verify_service_sid"`
	// RequestTimeout bounds every Twilio REST call (default 10s).
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// AllowedPrefixes are the E.164 prefixes SMS and calls may go to
	// ("+1", "+44"). Anything else is refused before Twilio is called. Empty
	// allows only the country of FromNumber.
	AllowedPrefixes []string `yaml:"allowed_prefixes"`
	// MaxSendsPerHour caps every SMS and call this process sends through
	// Twilio per clock hour, across replicas (default 500). It backs up the
	// regulation send budgets and also covers passphrases and notices.
	MaxSendsPerHour int `yaml:"max_sends_per_hour"`
	// APIBaseURL sends every REST call to this scheme and host instead of
	// Twilio's (api.twilio.com, verify.twilio.com), keeping the path: an
	// egress proxy. Empty calls Twilio directly. Excludes Edge and Region.
	APIBaseURL string `yaml:"api_base_url"`
	// Edge and Region pin REST calls to a Twilio edge location (dublin,
	// sydney, ...) and processing region (ie1, au1, ...), as the
	// TWILIO_EDGE and TWILIO_REGION variables would; resetbot ignores those
	// variables so that only this file changes the hosts it calls.
	Edge   string `yaml:"edge"`
	Region string `yaml:"region"`
}

// edges are Twilio's edge locations.
var edges = []string{"ashburn", "dublin", "frankfurt", "roaming", "sao-paulo", "singapore",
	"sydney", "tokyo", "umatilla"}

// Configured reports whether the account can send: SID, token and number set.
func (a *Account) Configured() bool {
	return a.AccountSID != "" && !a.AuthToken.Empty() && a.FromNumber != ""
}

// Missing names the settings Configured needs that are not set, under path:
// "channels.twilio.auth_token" or "channels.twilio.account_sid and
// from_number".
func (a *Account) Missing(path string) string {
	var miss []string
	if a.AccountSID == "" {
		miss = append(miss, "account_sid")
	}
	if a.AuthToken.Empty() {
		miss = append(miss, "auth_token")
	}
	if a.FromNumber == "" {
		miss = append(miss, "from_number")
	}
	switch len(miss) {
	case 0:
		return path + " settings"
	case 1:
		return path + "." + miss[0]
	}
	return path + "." + strings.Join(miss[:len(miss)-1], ", ") + " and " + miss[len(miss)-1]
}

// Line is the number SMS and calls come from, the one people are told to
// call back (an SMS handoff).
func (a *Account) Line() string { return a.FromNumber }

// Effective returns a copy with the use-time defaults filled in.
func (a Account) Effective() Account {
	if a.SMSAPI == "" {
		a.SMSAPI = DefaultSMSAPI
	}
	if a.RequestTimeout <= 0 {
		a.RequestTimeout = DefaultRequestTimeout
	}
	if a.MaxSendsPerHour <= 0 {
		a.MaxSendsPerHour = DefaultMaxSendsPerHour
	}
	return a
}

// Validate reports every problem with the account's settings under path
// (channels.twilio). Whether they are required depends on who uses them:
// the phone channel and notify.sms.provider say so themselves.
func (a *Account) Validate(c plugin.Checker, path string) {
	if a.AccountSID != "" && !strings.HasPrefix(a.AccountSID, "AC") {
		c.Errorf(path+".account_sid", "must start with AC")
	}
	E164(c, path+".from_number", a.FromNumber)
	a.validateSending(c, path)
	a.validateHosts(c, path)
}

func (a *Account) validateSending(c plugin.Checker, p string) {
	switch a.SMSAPI {
	case "", APIMessages:
	case APIVerify:
		if !strings.HasPrefix(a.VerifyServiceSID, "VA") {
			c.Errorf(p+".verify_service_sid", "must be a Verify service SID (VA...) when sms_api is verify")
		}
	default:
		c.Errorf(p+".sms_api", "must be messages or verify")
	}
	for _, pre := range a.AllowedPrefixes {
		if !PrefixOK(pre) {
			c.Errorf(p+".allowed_prefixes", "%q is not an E.164 prefix such as +1 or +44", pre)
		}
	}
	if a.MaxSendsPerHour < 0 {
		c.Errorf(p+".max_sends_per_hour", "must not be negative (0 uses the default)")
	}
	if a.RequestTimeout < 0 || a.RequestTimeout > time.Minute {
		c.Errorf(p+".request_timeout", "must be between 0 (default) and 1m")
	}
}

func (a *Account) validateHosts(c plugin.Checker, p string) {
	plugin.CheckCredentialURL(c, p+".api_base_url", a.APIBaseURL)
	if a.Edge != "" && !slices.Contains(edges, a.Edge) {
		c.Errorf(p+".edge", "%q is not a Twilio edge (%s)", a.Edge, strings.Join(edges, ", "))
	}
	if a.Region != "" && !regionOK(a.Region) {
		c.Errorf(p+".region", "%q is not a Twilio region such as us1, ie1 or au1", a.Region)
	}
	if a.APIBaseURL != "" && (a.Edge != "" || a.Region != "") {
		c.Errorf(p+".api_base_url", "excludes edge and region (the proxy chooses where calls go)")
	}
}

// regionOK accepts two lower-case letters and a digit (us1, ie1, au1).
func regionOK(r string) bool {
	return len(r) == 3 && r[0] >= 'a' && r[0] <= 'z' && r[1] >= 'a' && r[1] <= 'z' && r[2] >= '1' && r[2] <= '9'
}

// PrefixOK reports whether s is "+" followed by 1 to 15 digits.
func PrefixOK(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// E164 reports a problem at path unless n is empty or an E.164 number.
func E164(c plugin.Checker, path, n string) {
	if n == "" {
		return
	}
	ok := len(n) >= 8 && len(n) <= 16 && n[0] == '+'
	for _, r := range n[1:] {
		ok = ok && r >= '0' && r <= '9'
	}
	if !ok {
		c.Errorf(path, "must be an E.164 number such as +15551234567")
	}
}

// Delivers reports whether the account sends on ch: SMS and code calls,
// once it is configured.
func (a *Account) Delivers(ch notify.Channel) bool {
	return a.Configured() && (ch == notify.ChannelSMS || ch == notify.ChannelVoice)
}

// OpenSenders validates the account and returns its SMS and code-call
// Senders (notify.AccountOpener). The code-call Sender serves the "press 1"
// action (notify.Routed) when deps has a public URL for Twilio to call back.
func (a *Account) OpenSenders(_ context.Context, deps notify.Deps) (map[notify.Channel]notify.Sender, error) {
	if err := plugin.Check(a, "channels.twilio", deps.Production).Err(); err != nil {
		return nil, err
	}
	if !a.Configured() {
		return nil, errors.New("twilio: account sid, auth token and from number are required")
	}
	if deps.Messages == nil {
		return nil, errors.New("twilio: a message catalog is required")
	}
	c, err := New(Config{AccountSID: a.AccountSID, AuthToken: a.AuthToken, From: a.FromNumber, API: a.SMSAPI,
		VerifyServiceSID: a.VerifyServiceSID, AllowedPrefixes: a.AllowedPrefixes, MaxPerHour: a.MaxSendsPerHour,
		Timeout: a.RequestTimeout, PublicURL: deps.PublicURL, BaseURL: a.APIBaseURL, Edge: a.Edge, Region: a.Region,
		Store: deps.Store, Messages: deps.Messages, Clock: deps.Clock, Rand: deps.Rand, Log: deps.Log})
	if err != nil {
		return nil, err
	}
	voice := codeCaller{Sender: c.Voice()}
	if deps.PublicURL != "" {
		voice.routes = map[string]http.Handler{http.MethodPost + " " + CodePath: &CodeHandler{
			Auth:  NewWebhookAuth(deps.PublicURL, a.AccountSID, a.AuthToken, deps.Log),
			Store: deps.Store, Key: CodeKey(a.AuthToken), Messages: deps.Messages, Log: deps.Log}}
	}
	return map[notify.Channel]notify.Sender{notify.ChannelSMS: c.SMS(), notify.ChannelVoice: voice}, nil
}

// codeCaller is the code-call Sender with the route of its "press 1"
// action: whoever opens the calls serves their callback.
type codeCaller struct {
	notify.Sender
	routes map[string]http.Handler
}

var _ notify.Routed = codeCaller{}

func (c codeCaller) Routes() map[string]http.Handler { return c.routes }

var _ notify.AccountOpener = (*Account)(nil)
