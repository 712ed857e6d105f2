package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
)

// DefaultTimeout bounds a whole delivery (dial, TLS, auth, send) when
// Config.Timeout is left out.
const DefaultTimeout = 15 * time.Second

// Config describes the SMTP relay (notify.email).
type Config struct {
	// Host is the relay's host name, also used to verify its certificate.
	Host string `yaml:"host"`
	// Port is the submission port (default 587; 465 is usual with
	// implicit TLS).
	Port int `yaml:"port"`
	// Username enables SMTP AUTH when set.
	Username string `yaml:"username"`
	// Password is the SMTP AUTH password.
	Password secret.String `yaml:"password"`
	// From is the sender, "resetbot <noreply@corp.example>" or a bare address.
	From string `yaml:"from"`
	// TLS is mandatory (STARTTLS, the default), implicit (port 465) or none.
	TLS TLSMode `yaml:"tls"`
	// CAFile is a PEM bundle of the CAs that sign the relay's certificate,
	// for a relay with a private CA; empty trusts the system roots.
	CAFile string `yaml:"ca_file"`
	// Timeout bounds each delivery (default DefaultTimeout).
	Timeout time.Duration `yaml:"timeout"`
	// TLSConfig overrides the TLS settings, for code and tests (Open builds
	// it from CAFile). ServerName defaults to Host and MinVersion to TLS 1.2.
	TLSConfig *tls.Config `yaml:"-"`
}

// DefaultConfig is the configuration notify.email starts from.
func DefaultConfig() *Config {
	return &Config{Port: 587, TLS: TLSMandatory, Timeout: DefaultTimeout}
}

var _ notify.Opener = (*Config)(nil)

// NewConfig is the e-mail notifier's registry entry (notify.email).
func NewConfig() plugin.Config { return DefaultConfig() }

// Validate reports every problem with the relay's settings under path
// (notify.email). It is the only validation of them: check-config runs it
// through the configuration framework, New and Open through plugin.Check.
// Messages name settings, never a password.
func (c *Config) Validate(ck plugin.Checker, path string) {
	switch {
	case c.Host == "":
		ck.Errorf(path+".host", "is required (the SMTP relay's host name)")
	case strings.HasPrefix(c.Host, "unix://") || hasControl(c.Host):
		ck.Errorf(path+".host", "must be a host name")
	}
	if c.Port < 1 || c.Port > 65535 {
		ck.Errorf(path+".port", "must be between 1 and 65535")
	}
	c.validateFrom(ck, path+".from")
	if c.Username != "" && c.Password.Empty() {
		ck.Errorf(path+".password", "is required when username is set")
	}
	if c.Username == "" && !c.Password.Empty() {
		ck.Errorf(path+".username", "is required when password is set")
	}
	if hasControl(c.Username) {
		ck.Errorf(path+".username", "must not contain control characters")
	}
	ck.FileExists(path+".ca_file", c.CAFile)
	if c.CAFile != "" && c.TLS == TLSNone {
		ck.Errorf(path+".ca_file", "is set but tls is none: the CA would never be used")
	}
	switch c.TLS {
	case TLSMandatory, TLSImplicit:
	case TLSNone:
		switch {
		case !c.Password.Empty():
			// Why: a password sent in clear text can be sniffed on the path.
			ck.Errorf(path+".tls", "none cannot be used with a password (it would cross the network in clear text)")
		case ck.Production():
			ck.Errorf(path+".tls", "none is not allowed in production (codes would travel in clear text)")
		default:
			ck.Warnf(path+".tls", "SMTP without TLS")
		}
	default:
		ck.Errorf(path+".tls", "must be mandatory, implicit or none")
	}
	if c.Timeout < 0 {
		ck.Errorf(path+".timeout", "must not be negative")
	}
}

func (c *Config) validateFrom(ck plugin.Checker, p string) {
	switch {
	case c.From == "":
		ck.Errorf(p, "is required")
	case hasControl(c.From):
		ck.Errorf(p, "must not contain a line break or control character")
	default:
		if _, err := mail.ParseAddress(c.From); err != nil {
			ck.Errorf(p, "is not a valid email address")
		}
	}
}

// Delivers reports whether ch is e-mail: a configured relay delivers e-mail
// only.
func (c *Config) Delivers(ch notify.Channel) bool { return ch == notify.ChannelEmail }

// Open validates c and returns the e-mail Sender, trusting the CAs in
// ca_file when it is set.
func (c *Config) Open(_ context.Context, deps notify.Deps) (map[notify.Channel]notify.Sender, error) {
	if err := plugin.Check(c, "notify.email", deps.Production).Err(); err != nil {
		return nil, err
	}
	cfg := *c
	if c.CAFile != "" {
		tc, err := caTLS(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("notify.email.%w", err)
		}
		cfg.TLSConfig = tc
	}
	var opts []Option
	if deps.Clock != nil {
		opts = append(opts, WithClock(deps.Clock))
	}
	s, err := New(cfg, opts...)
	if err != nil {
		return nil, err
	}
	return map[notify.Channel]notify.Sender{notify.ChannelEmail: s}, nil
}

// caTLS returns TLS settings that trust the CAs in caFile, so a relay with a
// private CA works with TLS still mandatory.
func caTLS(caFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
