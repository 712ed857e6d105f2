package config

import (
	"net/mail"
	"slices"
	"strings"

	"github.com/resetbot/resetbot/core/secret"
)

// NotifyConfig configures how codes and notices reach users.
type NotifyConfig struct {
	Email EmailConfig `yaml:"email"`
	SMS   SMSConfig   `yaml:"sms"`
	// Outbox captures every message in memory instead of sending it (demo and
	// tests). Refused in production.
	Outbox bool `yaml:"outbox"`
}

// EmailConfig configures SMTP submission.
type EmailConfig struct {
	Host     string        `yaml:"host"`
	Port     int           `yaml:"port"`
	Username string        `yaml:"username"`
	Password secret.String `yaml:"password"`
	From     string        `yaml:"from"`
	// TLS is mandatory (STARTTLS, the default), implicit (port 465) or none.
	TLS string `yaml:"tls"`
	// CAFile is a PEM bundle of the CAs that sign the relay's certificate,
	// for a relay with a private CA; empty trusts the system roots.
	CAFile string `yaml:"ca_file"`
}

// SMSConfig selects the SMS and voice provider.
type SMSConfig struct {
	// Provider is twilio (uses channels.twilio credentials) or outbox.
	Provider string `yaml:"provider"`
}

// AuditConfig configures the append-only audit trail.
type AuditConfig struct {
	// File is "-" for standard output or a path opened for appending.
	File string `yaml:"file"`
	// OCSF also writes the trail in the OCSF schema (ocsf_config.go).
	OCSF OCSFConfig `yaml:"ocsf"`
}

// LogConfig configures the operational log.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

func defaultNotify() NotifyConfig {
	return NotifyConfig{Email: EmailConfig{Port: 587, TLS: "mandatory"}, SMS: SMSConfig{Provider: "twilio"}}
}

func (v *validator) notify(n *NotifyConfig, c *Config) {
	const p = "notify"
	if n.Outbox && v.production() {
		v.errorf(p+".outbox", "the outbox never delivers anything and cannot be used in production")
	}
	email := n.Email
	if email.Host != "" || (c.Factors.Has(FactorEmail) && !n.Outbox) {
		v.email(p+".email", &email)
	}
	switch n.SMS.Provider {
	case "twilio":
		if (c.Factors.Has(FactorSMS) || c.Factors.Has(FactorVoice)) && !n.Outbox && !c.Channels.Twilio.configured() {
			v.errorf(p+".sms.provider", "twilio needs %s", twilioMissing(c.Channels.Twilio))
		}
	case "outbox":
		if v.production() {
			v.errorf(p+".sms.provider", "outbox never delivers anything and cannot be used in production")
		}
	case "":
		if c.Factors.Has(FactorSMS) || c.Factors.Has(FactorVoice) {
			v.errorf(p+".sms.provider", "is required when sms or voice is enabled")
		}
	default:
		v.errorf(p+".sms.provider", "must be twilio or outbox")
	}
}

// twilioMissing names the Twilio settings that are not set, e.g.
// "channels.twilio.auth_token" or "channels.twilio.account_sid and from_number".
func twilioMissing(t TwilioConfig) string {
	var miss []string
	if t.AccountSID == "" {
		miss = append(miss, "account_sid")
	}
	if t.AuthToken.Empty() {
		miss = append(miss, "auth_token")
	}
	if t.FromNumber == "" {
		miss = append(miss, "from_number")
	}
	switch len(miss) {
	case 0:
		return "channels.twilio settings"
	case 1:
		return "channels.twilio." + miss[0]
	}
	return "channels.twilio." + strings.Join(miss[:len(miss)-1], ", ") + " and " + miss[len(miss)-1]
}

func (v *validator) email(p string, e *EmailConfig) {
	if e.Host == "" {
		v.errorf(p+".host", "is required when the email factor is enabled")
	}
	if e.Port < 1 || e.Port > 65535 {
		v.errorf(p+".port", "must be between 1 and 65535")
	}
	if e.From == "" {
		v.errorf(p+".from", "is required")
	} else if _, err := mail.ParseAddress(e.From); err != nil {
		v.errorf(p+".from", "is not a valid email address")
	}
	if e.Username != "" && e.Password.Empty() {
		v.errorf(p+".password", "is required when username is set")
	}
	v.fileExists(p+".ca_file", e.CAFile)
	if e.CAFile != "" && e.TLS == "none" {
		v.errorf(p+".ca_file", "is set but tls is none: the CA would never be used")
	}
	switch e.TLS {
	case "mandatory", "implicit":
	case "none":
		if v.production() {
			v.errorf(p+".tls", "none is not allowed in production (codes would travel in clear text)")
		} else {
			v.warnf(p+".tls", "SMTP without TLS")
		}
	default:
		v.errorf(p+".tls", "must be mandatory, implicit or none")
	}
}

func (v *validator) audit(a *AuditConfig) {
	if a.File == "" {
		v.errorf("audit.file", `is required ("-" for standard output)`)
	} else if a.File != "-" {
		v.dirExists("audit.file", a.File)
	}
	v.ocsf(&a.OCSF)
}

func (v *validator) log(l *LogConfig) {
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, l.Level) {
		v.errorf("log.level", "must be debug, info, warn or error")
	}
	if l.Format != "json" && l.Format != "text" {
		v.errorf("log.format", "must be json or text")
	}
	if l.Level == "debug" && v.production() {
		v.warnf("log.level", "debug logging in production")
	}
}
