package chatid

import (
	"slices"
	"strconv"
	"strings"

	"github.com/resetbot/resetbot/core/plugin"
)

// Identity mapping sources (channels.<chat>.identity_mapping.from): what the
// chat platform says about the person.
const (
	// FromOff turns the mapping off: the bot always asks who the person is.
	FromOff = "off"
	// FromEmail is the platform's profile email (Slack and Mattermost: only
	// once the platform has confirmed it; Teams: the member's Entra mail).
	FromEmail = "email"
	// FromUPN is the Teams member's user principal name.
	FromUPN = "upn"
	// FromObjectID is the Teams member's Entra ID object ID.
	FromObjectID = "object_id"
)

// Identity mapping targets (identity_mapping.to): the directory attribute
// the source value must equal.
const (
	// ToEmail matches the directory's mail attribute.
	ToEmail = "email"
	// ToLogin matches the login (uid, sAMAccountName or UPN).
	ToLogin = "login"
	// ToLoginPrefix matches the login against the part of the value before
	// "@" (amartin@corp.example -> amartin), only for the listed domains.
	ToLoginPrefix = "login_prefix"
	// ToEmployeeNumber matches the employee number attribute (e.g. an Entra
	// object ID synchronised into employeeID).
	ToEmployeeNumber = "employee_number"
)

// Mapping is a chat channel's identity_mapping settings: how a chat
// identity maps to a directory account, so that the bot can start for that
// account without asking for a login. Each chat channel's configuration
// embeds one (channels.slack.identity_mapping, ...). The mapping is a
// signal, never a verification factor: the same factors are required either
// way. A value that matches no account, or more than one, gives no mapping,
// and the person is asked who they are as if unmapped.
type Mapping struct {
	// From is the platform value: off, email, or (Teams) upn or object_id.
	// Empty: email.
	From string `yaml:"from"`
	// To is the directory attribute it must equal: email, login,
	// login_prefix or employee_number. Empty: email (login with from: upn).
	To string `yaml:"to"`
	// Domains are the domains accepted with to: login_prefix (required
	// then): amartin@partner.example must not map to the directory's amartin.
	Domains []string `yaml:"domains"`
}

// Off reports whether the mapping is turned off.
func (m Mapping) Off() bool { return m.From == FromOff }

// WithDefaults returns m with empty fields set to the defaults: the profile
// email against the directory's mail; a UPN against the login (Active
// Directory matches it with userPrincipalName).
func (m Mapping) WithDefaults() Mapping {
	if m.From == "" {
		m.From = FromEmail
	}
	if m.To == "" {
		m.To = ToEmail
		if m.From == FromUPN {
			m.To = ToLogin
		}
	}
	return m
}

// ChatSources are the sources every chat platform offers (Slack,
// Mattermost); Teams adds FromUPN and FromObjectID.
var ChatSources = []string{FromOff, FromEmail}

// Validate reports every problem of the mapping at path
// ("channels.slack.identity_mapping") to c. sources are the From values the
// platform offers (ChatSources, or more).
func (m Mapping) Validate(c plugin.Checker, path string, sources []string) {
	m = m.WithDefaults()
	if !slices.Contains(sources, m.From) {
		c.Errorf(path+".from", "must be one of %s", strings.Join(sources, ", "))
		return
	}
	if m.Off() {
		return
	}
	if !slices.Contains([]string{ToEmail, ToLogin, ToLoginPrefix, ToEmployeeNumber}, m.To) {
		c.Errorf(path+".to", "must be one of email, login, login_prefix, employee_number")
		return
	}
	if m.From == FromObjectID && m.To != ToEmployeeNumber && m.To != ToLogin {
		c.Errorf(path+".to", "an object ID can only match login or employee_number (an attribute holding the Entra object ID)")
	}
	if m.To == ToLoginPrefix && len(m.Domains) == 0 {
		c.Errorf(path+".domains", "is required with to: login_prefix (the domains whose addresses name directory logins)")
	}
	for i, d := range m.Domains {
		if d == "" || strings.ContainsAny(d, "@/: ") || !strings.Contains(d, ".") {
			c.Errorf(path+".domains["+strconv.Itoa(i)+"]", "must be a domain such as corp.example")
		}
	}
}
