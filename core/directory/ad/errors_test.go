package ad

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
)

func ldapErr(code uint16, diag string) error { return ldap.NewError(code, errors.New(diag)) }

// TestTranslate feeds diagnostics as Samba and Windows DCs send them.
func TestTranslate(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		reason directory.Reason // set: want a *RefusedError with this reason
		is     error            // else: want errors.Is(err, is)
	}{
		{"samba too short", ldapErr(19, "0000052D: Constraint violation - check_password_restrictions: the password is too short. It should be equal or longer than 8 characters!"), directory.ReasonTooShort, nil},
		{"samba history", ldapErr(19, "0000052D: Constraint violation - check_password_restrictions: the password was already used (in history)!"), directory.ReasonHistory, nil},
		{"samba complexity", ldapErr(19, "0000052D: Constraint violation - check_password_restrictions: the password does not meet the complexity criteria!"), directory.ReasonQuality, nil},
		{"samba too young", ldapErr(19, "0000052D: Constraint violation - check_password_restrictions: password is too young to change!"), directory.ReasonTooYoung, nil},
		{"windows restriction", ldapErr(19, "0000052D: AtrErr: DSID-03191083, #1:\n\t0: 0000052D: DSID-03191083, problem 1005 (CONSTRAINT_ATT_TYPE), data 0, Att 9005a (unicodePwd)\n"), directory.ReasonPolicy, nil},
		{"windows unwilling restriction", ldapErr(53, "0000052D: SvcErr: DSID-031A124C, problem 5003 (WILL_NOT_PERFORM), data 0"), directory.ReasonPolicy, nil},
		{"constraint without code", ldapErr(19, "constraint violation"), directory.ReasonPolicy, nil},
		{"no such object", ldapErr(32, "0000208D: NameErr: DSID-03100241, problem 2001 (NO_OBJECT), data 0"), "", directory.ErrNotFound},
		{"samba no such base", ldapErr(32, "00002030: No such Base DN: CN=x"), "", directory.ErrNotFound},
		{"insufficient access", ldapErr(50, "00002098: Object CN=x has no write property access"), "", directory.ErrProtected},
		{"access denied", ldapErr(50, "00000005: SecErr: DSID-031A11E5, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0"), "", directory.ErrProtected},
		{"windows no TLS", ldapErr(53, "0000001F: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0"), "", directory.ErrUnavailable},
		{"locked out", ldapErr(19, "00000775: account locked"), "", directory.ErrUnavailable},
		{"busy", ldapErr(51, "busy"), "", directory.ErrUnavailable},
		{"network", ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection timed out")), "", directory.ErrUnavailable},
		{"cancelled", context.Canceled, "", context.Canceled},
		{"already translated", fmt.Errorf("%w: x", directory.ErrAmbiguous), "", directory.ErrAmbiguous},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translate("reset password", tt.err)
			if tt.reason != "" {
				var re *directory.RefusedError
				if !errors.As(got, &re) || re.Reason != tt.reason || !errors.Is(got, directory.ErrRefused) {
					t.Fatalf("translate = %v, want refused (%s)", got, tt.reason)
				}
				if strings.Contains(re.Detail, "DSID") || strings.Contains(re.Detail, "0000") {
					t.Errorf("Detail %q holds server text", re.Detail)
				}
				return
			}
			if !errors.Is(got, tt.is) {
				t.Fatalf("translate = %v, want %v", got, tt.is)
			}
		})
	}
	// The server's diagnostic stays reachable for logs.
	var re *refusedError
	if !errors.As(translate("x", tests[0].err), &re) || !strings.Contains(re.cause.Error(), "0000052D") {
		t.Error("the server diagnostic is lost")
	}
}

func TestBindError(t *testing.T) {
	tests := []struct {
		diag, want string
	}{
		{"80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1", "invalid credentials"},
		{"80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 775, v1db1", "locked out"},
		{"80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 533, v1db1", "disabled"},
		{"80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 532, v1db1", "password expired"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			err := bindError(ldapErr(49, tt.diag))
			if !errors.Is(err, directory.ErrUnavailable) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("bindError = %v, want ErrUnavailable with %q", err, tt.want)
			}
		})
	}
}

func TestTransportReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&x509.UnknownAuthorityError{}, "unknown CA"},
		{x509.HostnameError{Certificate: &x509.Certificate{}, Host: "h"}, "name mismatch"},
		{x509.CertificateInvalidError{Reason: x509.Expired}, "expired"},
		{context.DeadlineExceeded, "timed out"},
		{errors.New("boom"), "network error"},
	}
	for _, tt := range tests {
		if got := transportReason(fmt.Errorf("wrapped: %w", tt.err)); !strings.Contains(got, tt.want) {
			t.Errorf("transportReason(%T) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
