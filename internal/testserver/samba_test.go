package testserver

import (
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// TestSambaDCFixtures checks the golden DC's fixtures through real binds: the
// AD sub-code in the diagnostic says why a bind failed.
func TestSambaDCFixtures(t *testing.T) {
	s := SambaDC(t)
	tests := []struct {
		name string
		user SambaUser
		want string // "" = bind succeeds, else the "data" sub-code
	}{
		{"ordinary user", SambaJDoe, ""},
		{"bot", SambaBot, ""},
		{"disabled", SambaDisabled, "data 533"},
		{"locked", SambaLocked, "data 775"},
		{"must change", SambaMustChange, "data 773"},
		{"expired account", SambaExpired, "data 701"},
		{"administrator", SambaAdministrator, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Bind(tt.user.UPN, tt.user.Password)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("bind: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("bind: got %v, want %s", err, tt.want)
			}
		})
	}
}

// TestSambaDCBotRights checks that the bot may reset passwords only in the
// People OU, and may write nothing else there.
func TestSambaDCBotRights(t *testing.T) {
	s := SambaDC(t)
	c, err := s.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(SambaBot.UPN, SambaBot.Password); err != nil {
		t.Fatal(err)
	}
	reset := func(dn string) error {
		m := ldap.NewModifyRequest(dn, nil)
		m.Replace("unicodePwd", []string{SambaUnicodePwd("New!Pass-42")})
		return c.Modify(m)
	}
	if err := reset(SambaJDoe.DN); err != nil {
		t.Fatalf("reset in People: %v", err)
	}
	if err := s.Bind(SambaJDoe.UPN, "New!Pass-42"); err != nil {
		t.Fatalf("bind with new password: %v", err)
	}
	for _, dn := range []string{SambaOutsider.DN, SambaAdministrator.DN} {
		if err := reset(dn); !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
			t.Errorf("reset %s: got %v, want insufficient access", dn, err)
		}
	}
	m := ldap.NewModifyRequest(SambaJDoe.DN, nil)
	m.Replace("mail", []string{"x@example.org"})
	if err := c.Modify(m); !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
		t.Errorf("write mail: got %v, want insufficient access", err)
	}
}
