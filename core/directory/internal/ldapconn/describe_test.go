package ldapconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string // substring; "" = not a transport failure
	}{
		{x509.UnknownAuthorityError{}, "unknown CA"}, // as crypto/x509 returns it
		{&x509.UnknownAuthorityError{}, "unknown CA"},
		{x509.HostnameError{Certificate: &x509.Certificate{}, Host: "h"}, "name mismatch"},
		{x509.CertificateInvalidError{Reason: x509.Expired}, "expired"},
		{&tls.CertificateVerificationError{Err: errors.New("x")}, "does not verify"},
		{tls.RecordHeaderError{}, "did not answer with TLS"},
		{syscall.ECONNREFUSED, "connection refused"},
		{context.DeadlineExceeded, "timed out"},
		{context.Canceled, "cancelled"},
		{ldap.NewError(ldap.ErrorNetwork, errors.New("x")), "connection to the server failed"},
		{ldap.NewError(ldap.LDAPResultInsufficientAccessRights, errors.New("x")), ""},
		{nil, ""},
	} {
		err := tc.err
		if err != nil {
			err = &StageError{"connect", fmt.Errorf("wrapped: %w", err)}
		}
		got := Reason(err)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("Reason(%T) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
