// Package kerberos is the MIT Kerberos fan-out target: the user's principal
// (login@REALM) gets the new password through kadmin, authenticated as a
// service principal from a keytab. kadm5.acl must grant that principal the
// change-password right ("c") on users' principals, and nothing more is needed.
//
// The password goes to kadmin on its standard input, never on its command
// line (which any local user could read in /proc). kadmin's answer is
// classified into plain reasons; its raw output never reaches a log or an
// error.
package kerberos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/fanout"
)

// Config is the Kerberos target's block.
type Config struct {
	Name, Label string
	Realm       string
	// AdminServer is host:port of kadmind.
	AdminServer string
	// Principal is the service principal, e.g. resetbot/admin@CORP.EXAMPLE.
	Principal string
	Keytab    string
	// Krb5Conf is the krb5.conf to use; empty uses the system's.
	Krb5Conf string
	// Kadmin is the kadmin binary; empty finds kadmin in PATH.
	Kadmin      string
	Constraints fanout.Constraints
}

// The patterns' lengths are checked apart (realmMax, userMax): a counted
// repetition such as {0,254} compiles into hundreds of copies of the class,
// some 20,000 objects that every process kept and every collection marked.
var (
	realmRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9.-]*$`)
	// userRE is what a login may be to become a principal: anything else
	// could be read by kadmin as more than one principal or command.
	userRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

const (
	realmMax = 255
	userMax  = 256
)

// validRealm reports whether s is an upper-case realm name of at most
// realmMax bytes.
func validRealm(s string) bool { return len(s) <= realmMax && realmRE.MatchString(s) }

// validUser reports whether a login of at most userMax bytes can be a
// principal name as it is.
func validUser(s string) bool { return len(s) <= userMax && userRE.MatchString(s) }

// Validate reports every problem with the block.
func (c Config) Validate() error {
	var errs []error
	if !validRealm(c.Realm) {
		errs = append(errs, errors.New("realm must be an upper-case Kerberos realm such as CORP.EXAMPLE"))
	}
	if c.AdminServer == "" || strings.ContainsAny(c.AdminServer, " \t\n") {
		errs = append(errs, errors.New("admin_server must be host[:port] of kadmind"))
	}
	if c.Principal == "" || strings.ContainsAny(c.Principal, " \t\n\"") {
		errs = append(errs, errors.New("principal must be the service principal, e.g. resetbot/admin@CORP.EXAMPLE"))
	}
	if fi, err := os.Stat(c.Keytab); err != nil || fi.IsDir() {
		errs = append(errs, errors.New("keytab must be a readable file"))
	}
	if _, err := exec.LookPath(c.kadmin()); err != nil {
		errs = append(errs, fmt.Errorf("kadmin %q not found (install krb5-user)", c.kadmin()))
	}
	return errors.Join(errs...)
}

func (c Config) kadmin() string {
	if c.Kadmin != "" {
		return c.Kadmin
	}
	return "kadmin"
}

// Open builds the target.
func (c Config) Open(context.Context) (fanout.Target, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	bin, _ := exec.LookPath(c.kadmin())
	return &Target{cfg: c, bin: bin}, nil
}

// Target changes passwords in one realm.
type Target struct {
	cfg Config
	bin string
}

var _ fanout.Target = (*Target)(nil)

// Name implements fanout.Target.
func (t *Target) Name() string { return t.cfg.Name }

// Label implements fanout.Target.
func (t *Target) Label() string { return t.cfg.Label }

// Constraints implements fanout.Target. A line break can never be part of
// a password given to kadmin line by line.
func (t *Target) Constraints() fanout.Constraints {
	c := t.cfg.Constraints
	c.Forbidden += "\r\n"
	return c
}

// answers maps kadmin's messages to plain reasons; permanent ones cannot be
// fixed by retrying.
var answers = []struct {
	text, reason string
	permanent    bool
}{
	{"Principal does not exist", "no such principal", true},
	{"Password is too short", "password too short for the realm's policy", true},
	{"Password does not contain enough character classes", "too few character classes for the realm's policy", true},
	{"Cannot reuse password", "password in the realm's history", true},
	{"Password is in the password dictionary", "password in the realm's dictionary", true},
	{"Operation requires", "the service principal lacks the change-password right", true},
	{"Communication failure", "kadmind unreachable", false},
	{"Cannot contact any KDC", "KDC unreachable", false},
}

// Push implements fanout.Target.
func (t *Target) Push(ctx context.Context, r fanout.Request) error {
	user := r.User.Login
	if !validUser(user) {
		return fmt.Errorf("kerberos %s: the login cannot be a principal name: %w", t.cfg.Name, fanout.ErrPermanent)
	}
	pw := r.Password.Reveal()
	if strings.ContainsAny(pw, "\r\n") {
		return fmt.Errorf("kerberos %s: line break in password: %w", t.cfg.Name, fanout.ErrPermanent)
	}
	princ := user + "@" + t.cfg.Realm
	cmd := exec.CommandContext(ctx, t.bin, "-k", "-t", t.cfg.Keytab, "-p", t.cfg.Principal, "-r", t.cfg.Realm,
		"-s", t.cfg.AdminServer, "-q", "cpw "+princ)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "KRB5CCNAME=MEMORY:resetbot-fanout"}
	if t.cfg.Krb5Conf != "" {
		cmd.Env = append(cmd.Env, "KRB5_CONFIG="+t.cfg.Krb5Conf)
	}
	in := []byte(pw + "\n" + pw + "\n")
	defer clear(in)
	cmd.Stdin = bytes.NewReader(in)
	var out limited
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if bytes.Contains(out.b, []byte(`Password for "`+princ+`" changed.`)) {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("kerberos %s: %w", t.cfg.Name, ctx.Err())
	}
	for _, a := range answers {
		if bytes.Contains(out.b, []byte(a.text)) {
			if a.permanent {
				return fmt.Errorf("kerberos %s: %s: %w", t.cfg.Name, a.reason, fanout.ErrPermanent)
			}
			return fmt.Errorf("kerberos %s: %s", t.cfg.Name, a.reason)
		}
	}
	if err != nil {
		return fmt.Errorf("kerberos %s: kadmin failed: %w", t.cfg.Name, err)
	}
	return fmt.Errorf("kerberos %s: kadmin did not confirm the change", t.cfg.Name)
}

// limited keeps the first 8 KiB of kadmin's output.
type limited struct{ b []byte }

func (l *limited) Write(p []byte) (int, error) {
	if room := 8192 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
