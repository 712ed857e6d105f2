// Package webhook is the sealed-webhook fan-out target: for any system
// resetbot has no plug-in for, the new password is POSTed to a receiver the
// company runs, encrypted to the receiver's age (X25519) public key, so no
// proxy, load balancer or request log on the way ever sees it.
//
// Each request is JSON:
//
//	{"id": "<idempotency key>", "ref": "...", "directory": "...", "login": "...",
//	 "email": "...", "employee_number": "...", "time": "RFC 3339",
//	 "password_age": "<base64 of the binary age file>"}
//
// signed like resetbot's other webhooks (X-Resetbot-Signature: t=..,v1=hex
// HMAC-SHA256(secret, t + "." + body), see core/handoff/webhook), with
// Idempotency-Key equal to "id": the same on every retry of one reset, keyed
// (HMAC) so it reveals nothing. A 2xx answer is success; 4xx other than 408
// and 429 is permanent (retrying cannot help); anything else is retried.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/resetbot/resetbot/core/fanout"
	hookwebhook "github.com/resetbot/resetbot/core/handoff/webhook"
	"github.com/resetbot/resetbot/core/secret"
)

// IdempotencyHeader carries the idempotency key.
const IdempotencyHeader = "Idempotency-Key"

// Config is the webhook target's block.
type Config struct {
	Name  string
	Label string
	// URL is the receiver (https; http only to a loopback address with AllowLoopbackHTTP).
	URL string
	// Recipient is the receiver's age X25519 public key ("age1...").
	Recipient string
	// Secret signs each request (HMAC-SHA256).
	Secret            secret.String
	Constraints       fanout.Constraints
	AllowLoopbackHTTP bool
	// Client may be nil (a client without redirects is used).
	Client *http.Client
}

// Validate reports every problem with the block.
func (c Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || u.Host == "":
		errs = append(errs, errors.New("url must be an absolute https URL"))
	case u.Scheme == "https":
	case u.Scheme == "http" && c.AllowLoopbackHTTP && isLoopback(u.Hostname()):
	default:
		errs = append(errs, errors.New("url must be https (plain http only to a loopback address, for tests)"))
	}
	if _, err := age.ParseX25519Recipient(c.Recipient); err != nil {
		errs = append(errs, errors.New("recipient must be an age X25519 public key (age1...)"))
	}
	if c.Secret.Len() < 32 {
		errs = append(errs, errors.New("secret must be at least 32 characters"))
	}
	return errors.Join(errs...)
}

func isLoopback(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

// Open builds the target.
func (c Config) Open(context.Context) (fanout.Target, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r, _ := age.ParseX25519Recipient(c.Recipient)
	cl := c.Client
	if cl == nil {
		cl = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Target{cfg: c, rcpt: r, client: cl, now: time.Now}, nil
}

// Target pushes sealed passwords to one receiver.
type Target struct {
	cfg    Config
	rcpt   *age.X25519Recipient
	client *http.Client
	now    func() time.Time
}

var _ fanout.Target = (*Target)(nil)

// Name implements fanout.Target.
func (t *Target) Name() string { return t.cfg.Name }

// Label implements fanout.Target.
func (t *Target) Label() string { return t.cfg.Label }

// Constraints implements fanout.Target.
func (t *Target) Constraints() fanout.Constraints { return t.cfg.Constraints }

// Body is the JSON a receiver gets.
type Body struct {
	ID             string `json:"id"`
	Ref            string `json:"ref"`
	Directory      string `json:"directory"`
	Login          string `json:"login"`
	Email          string `json:"email,omitempty"`
	EmployeeNumber string `json:"employee_number,omitempty"`
	Time           string `json:"time"`
	PasswordAge    string `json:"password_age"`
}

// Push implements fanout.Target.
func (t *Target) Push(ctx context.Context, r fanout.Request) error {
	sealed, err := t.seal(r.Password)
	if err != nil {
		return fmt.Errorf("webhook %s: seal: %w", t.cfg.Name, err)
	}
	b := Body{ID: t.idempotencyKey(r), Ref: r.Ref, Directory: r.User.Directory, Login: r.User.Login,
		Email: r.User.Email, EmployeeNumber: r.User.EmployeeNumber, Time: t.now().UTC().Format(time.RFC3339),
		PasswordAge: base64.StdEncoding.EncodeToString(sealed)}
	body, err := json.Marshal(b)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", t.cfg.Name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(IdempotencyHeader, b.ID)
	req.Header.Set(hookwebhook.DeliveryHeader, b.ID)
	req.Header.Set(hookwebhook.SignatureHeader, hookwebhook.Sign(t.cfg.Secret, t.now(), body))
	resp, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", t.cfg.Name, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests:
		return fmt.Errorf("webhook %s: status %d: %w", t.cfg.Name, c, fanout.ErrPermanent)
	default:
		return fmt.Errorf("webhook %s: status %d", t.cfg.Name, c)
	}
}

func (t *Target) seal(pw secret.String) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, t.rcpt)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, pw.Reveal()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// idempotencyKey is the same for every retry of one reset's push to this
// target: HMAC(secret, ref | target | user id), so it reveals nothing.
func (t *Target) idempotencyKey(r fanout.Request) string {
	m := hmac.New(sha256.New, []byte(t.cfg.Secret.Reveal()))
	m.Write([]byte(strings.Join([]string{"fanout-idem", r.Ref, t.cfg.Name, r.User.ID}, "\x00")))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// Open decrypts a Body's password with the receiver's identity: what a
// receiver does (used by tests and by receivers written in Go).
func Open(b Body, id *age.X25519Identity) (secret.String, error) {
	raw, err := base64.StdEncoding.DecodeString(b.PasswordAge)
	if err != nil {
		return secret.String{}, fmt.Errorf("password_age: %w", err)
	}
	rd, err := age.Decrypt(bytes.NewReader(raw), id)
	if err != nil {
		return secret.String{}, fmt.Errorf("decrypt: %w", err)
	}
	pw, err := io.ReadAll(io.LimitReader(rd, 1024))
	if err != nil {
		return secret.String{}, err
	}
	return secret.New(string(pw)), nil
}
