package config

import "strings"

// Identity mapping sources (channels.<chat>.identity_mapping.from): what the
// chat platform says about the person.
const (
	// MapFromOff turns the mapping off: the bot always asks who the person is.
	MapFromOff = "off"
	// MapFromEmail is the Slack profile email (only once Slack has confirmed
	// it) or the Teams member's email.
	MapFromEmail = "email"
	// MapFromUPN is the Teams member's user principal name.
	MapFromUPN = "upn"
	// MapFromObjectID is the Teams member's Entra ID object ID.
	MapFromObjectID = "object_id"
)

// Identity mapping targets (identity_mapping.to): the directory attribute
// the source value must equal.
const (
	// MapToEmail matches the directory's mail attribute.
	MapToEmail = "email"
	// MapToLogin matches the login (uid, sAMAccountName or UPN).
	MapToLogin = "login"
	// MapToLoginPrefix matches the login against the part of the value
	// before "@" (amartin@corp.example -> amartin), only for the listed
	// domains.
	MapToLoginPrefix = "login_prefix"
	// MapToEmployeeNumber matches the employee number attribute (e.g. an
	// Entra object ID synchronised into employeeID).
	MapToEmployeeNumber = "employee_number"
)

// IdentityMapping says how a chat identity maps to a directory account, so
// that the bot can start for that account without asking for a login. The
// mapping is a signal, never a verification factor: the same factors are
// required either way. A value that matches no account, or more than one,
// gives no mapping, and the person is asked who they are as if unmapped.
type IdentityMapping struct {
	// From is the platform value: off, email (Slack and Teams), upn or
	// object_id (Teams). Empty: the channel's default.
	From string `yaml:"from"`
	// To is the directory attribute it must equal: email, login,
	// login_prefix or employee_number. Empty: the channel's default.
	To string `yaml:"to"`
	// Domains are the domains accepted with to: login_prefix (required
	// then): amartin@partner.example must not map to the directory's amartin.
	Domains []string `yaml:"domains"`
}

// Off reports whether the mapping is turned off.
func (m IdentityMapping) Off() bool { return m.From == MapFromOff }

// WithDefaults returns m with empty fields set to the defaults: the
// profile email (Slack: only once confirmed; Teams: the member's Entra
// mail) against the directory's mail; a UPN against the login (Active
// Directory matches it with userPrincipalName). teams is kept for
// channel-specific defaults.
func (m IdentityMapping) WithDefaults(teams bool) IdentityMapping {
	_ = teams
	if m.From == "" {
		m.From = MapFromEmail
	}
	if m.To == "" {
		m.To = MapToEmail
		if m.From == MapFromUPN {
			m.To = MapToLogin
		}
	}
	return m
}

// identityMapping validates a channel's identity_mapping.
func (v *validator) identityMapping(p string, m IdentityMapping, teams bool) {
	m = m.WithDefaults(teams)
	froms := []string{MapFromOff, MapFromEmail}
	if teams {
		froms = append(froms, MapFromUPN, MapFromObjectID)
	}
	if !oneOf(m.From, froms) {
		v.errorf(p+".from", "must be one of %s", strings.Join(froms, ", "))
		return
	}
	if m.Off() {
		return
	}
	if !oneOf(m.To, []string{MapToEmail, MapToLogin, MapToLoginPrefix, MapToEmployeeNumber}) {
		v.errorf(p+".to", "must be one of email, login, login_prefix, employee_number")
		return
	}
	if m.From == MapFromObjectID && m.To != MapToEmployeeNumber && m.To != MapToLogin {
		v.errorf(p+".to", "an object ID can only match login or employee_number (an attribute holding the Entra object ID)")
	}
	if m.To == MapToLoginPrefix && len(m.Domains) == 0 {
		v.errorf(p+".domains", "is required with to: login_prefix (the domains whose addresses name directory logins)")
	}
	for i, d := range m.Domains {
		if d == "" || strings.ContainsAny(d, "@/: ") || !strings.Contains(d, ".") {
			v.errorf(index(p+".domains", i), "must be a domain such as corp.example")
		}
	}
}

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}
