// Package email is a notify.Sender that delivers plain-text e-mail over SMTP
// with github.com/wneessen/go-mail.
//
// Headers are built only from configuration and fixed templates: the sender
// refuses any destination that is not a bare address and any header value that
// contains a line break or control character, so nothing can add a Bcc or a
// second recipient. TLS is mandatory by default (STARTTLS, or implicit TLS on
// port 465); an unencrypted connection exists only for tests and refuses to
// carry SMTP credentials.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/plugin"
)

// TLSMode selects how the SMTP connection is encrypted.
type TLSMode string

// TLS modes.
const (
	// TLSMandatory connects in plain text and requires STARTTLS before
	// anything else is sent (submission, port 587). This is the default.
	TLSMandatory TLSMode = "mandatory"
	// TLSImplicit speaks TLS from the first byte (SMTPS, port 465).
	TLSImplicit TLSMode = "implicit"
	// TLSNone sends in clear text. It exists for tests and local relays;
	// Validate refuses it together with a password.
	TLSNone TLSMode = "none"
)

func parseFrom(from string) (*mail.Address, error) {
	if from == "" {
		return nil, errors.New("email: from is required")
	}
	if hasControl(from) {
		return nil, errors.New("email: from contains a line break or control character")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("email: from: %w", err)
	}
	return a, nil
}

// Sender delivers notify.Messages by e-mail. It opens one SMTP connection per
// message, which keeps it stateless and safe for concurrent use; wrap it in a
// notify.Queue so a slow relay does not hold up replies.
type Sender struct {
	cfg  Config
	from *mail.Address
	now  func() time.Time
}

var _ notify.Sender = (*Sender)(nil)

// Option configures a Sender.
type Option func(*Sender)

// WithClock sets the clock used for the Date header.
func WithClock(now func() time.Time) Option { return func(s *Sender) { s.now = now } }

// New validates cfg and returns a Sender. Code may leave TLS, Port and
// Timeout zero: they default to TLSMandatory, the mode's standard port and
// DefaultTimeout.
func New(cfg Config, opts ...Option) (*Sender, error) {
	if cfg.TLS == "" {
		cfg.TLS = TLSMandatory
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Port == 0 {
		cfg.Port = map[TLSMode]int{TLSMandatory: 587, TLSImplicit: 465, TLSNone: 25}[cfg.TLS]
	}
	if err := plugin.Check(&cfg, "email", false).Err(); err != nil {
		return nil, err
	}
	from, _ := parseFrom(cfg.From) // validated above
	s := &Sender{cfg: cfg, from: from, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Send delivers m to m.To. It returns an error wrapping notify.ErrInvalidMessage
// when the destination or subject is unsafe, before connecting. Errors name
// the destination only in masked form and never contain the body or password.
func (s *Sender) Send(ctx context.Context, m notify.Message) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("email: send %s to %s: %w", m.Summary, audit.MaskEmail(m.To), err)
	}
	return nil
}

// Check connects, negotiates TLS and authenticates without sending, as a
// startup check that the relay is reachable and the credentials work.
func (s *Sender) Check(ctx context.Context) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := c.DialWithContext(ctx); err != nil {
		return fmt.Errorf("email: check %s: %w", s.cfg.Host, err)
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("email: check %s: close: %w", s.cfg.Host, err)
	}
	return nil
}

// build turns m into a go-mail message, refusing unsafe header values.
func (s *Sender) build(m notify.Message) (*gomail.Msg, error) {
	to, err := bareAddress(m.To)
	if err != nil {
		return nil, err
	}
	// Why: a line break in a header value would let text start a new header
	// (Bcc:, a second To:). Subjects come from the catalog, but refuse anyway.
	if hasControl(m.Subject) {
		return nil, fmt.Errorf("%w: subject contains a line break or control character", notify.ErrInvalidMessage)
	}
	msg := gomail.NewMsg()
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetDateWithValue(s.now())
	msg.SetMessageID()
	// RFC 3834: tells auto-responders not to reply to a machine.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Body.Reveal())
	return msg, nil
}

// bareAddress accepts exactly one address with no display name, so the
// destination cannot smuggle a second recipient or header text.
func bareAddress(to string) (*mail.Address, error) {
	if to == "" {
		return nil, fmt.Errorf("%w: empty destination", notify.ErrInvalidMessage)
	}
	if hasControl(to) {
		return nil, fmt.Errorf("%w: destination contains a line break or control character", notify.ErrInvalidMessage)
	}
	a, err := mail.ParseAddress(to)
	if err != nil || a.Name != "" || a.Address != to {
		return nil, fmt.Errorf("%w: destination %s is not a single bare address", notify.ErrInvalidMessage, audit.MaskEmail(to))
	}
	return a, nil
}

// client builds a go-mail client for one delivery.
func (s *Sender) client() (*gomail.Client, error) {
	tc := &tls.Config{}
	if s.cfg.TLSConfig != nil {
		tc = s.cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = s.cfg.Host
	}
	tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(tc),
	}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		// Auto-discovery never picks PLAIN or LOGIN without TLS.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password.Reveal()))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("email: client for %s: %w", s.cfg.Host, err)
	}
	return c, nil
}

// hasControl reports whether s holds a character that could end a header
// line or confuse a terminal: C0 controls, DEL, NEL and the Unicode line and
// paragraph separators.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return true
		}
	}
	return false
}
