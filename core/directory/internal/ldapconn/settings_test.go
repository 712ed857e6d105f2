package ldapconn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/secret"
)

// recorder is a plugin.Checker that keeps what it is told.
type recorder struct {
	production  bool
	errs, warns []string
}

func (r *recorder) Errorf(path, format string, args ...any) {
	r.errs = append(r.errs, path+": "+fmt.Sprintf(format, args...))
}
func (r *recorder) Warnf(path, format string, args ...any) {
	r.warns = append(r.warns, path+": "+fmt.Sprintf(format, args...))
}
func (r *recorder) Given(string) bool            { return false }
func (r *recorder) Production() bool             { return r.production }
func (r *recorder) FileExists(path, file string) {}

// TestPlainLDAP: ldap:// without StartTLS is an error unless allow_plain
// (then a warning), in every mode, because the transport would refuse to
// connect without it (ErrPlain); for AD it is an error even with
// allow_plain, which AD refuses on its own.
func TestPlainLDAP(t *testing.T) {
	base := Defaults("(objectClass=*)", Attributes{Login: "uid"})
	base.URL, base.BindDN, base.BaseDN = "ldap://ldap.example", "cn=bot,dc=example", "dc=example"
	base.BindPassword = secret.New("pw")
	for _, tc := range []struct {
		name                  string
		production, plain, ad bool
		err, warn             string
	}{
		{"demo", false, false, false, "d.url: ldap:// needs start_tls: true (or ldaps://), or allow_plain: true for a demo", ""},
		{"production", true, false, false, "d.url: ldap:// needs start_tls: true (or ldaps://) in production", ""},
		{"demo allow_plain", false, true, false, "", "d.allow_plain: TLS is off"},
		{"production allow_plain", true, true, false, "", "d.allow_plain: TLS is off"},
		{"ad", false, false, true, "d.url: ldap:// needs start_tls: true (or ldaps://); Active Directory", ""},
		{"ad allow_plain", false, true, true, "d.allow_plain: is not supported for type ad", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			s.AllowPlain = tc.plain
			r := &recorder{production: tc.production}
			s.Validate(r, "d", tc.ad)
			if got := strings.Join(r.errs, "\n"); (tc.err == "") != (got == "") || !strings.Contains(got, tc.err) {
				t.Errorf("errors = %q, want %q", got, tc.err)
			}
			if got := strings.Join(r.warns, "\n"); !strings.Contains(got, tc.warn) || (tc.warn == "" && got != "") {
				t.Errorf("warnings = %q, want %q", got, tc.warn)
			}
		})
	}
}

// TestFill: a Settings built in Go gets the backend's defaults where it left
// a zero value, and keeps what it set.
func TestFill(t *testing.T) {
	def := Defaults("(objectClass=person)", Attributes{Login: "uid", Email: "mail"})
	s := Settings{PoolSize: 9, Attributes: Attributes{Email: "work"}}
	s.Fill(def)
	if s.PoolSize != 9 || s.DialTimeout != def.DialTimeout || s.RequestTimeout != def.RequestTimeout ||
		s.UserFilter != def.UserFilter || s.Attributes.Login != "uid" || s.Attributes.Email != "work" {
		t.Errorf("filled = %+v", s)
	}
}
