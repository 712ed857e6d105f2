package ldapconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"syscall"
)

// certBad opens every certificate failure, so operators and tests find
// one wording whatever the backend.
const certBad = "the server's TLS certificate does not verify (check ca_file and server_name)"

// Reason says in plain words, for the log and check-config, why a
// connection to the server failed, with the setting to check where one
// applies. It is "" when err is not a transport failure it recognises (an
// LDAP result, say): each backend words those itself.
func Reason(err error) string {
	var (
		unknownCA *x509.UnknownAuthorityError // tests build it by pointer,
		caValue   x509.UnknownAuthorityError  // crypto/x509 returns it by value
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		recErr    tls.RecordHeaderError
		dnsErr    *net.DNSError
		netErr    net.Error
	)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	switch {
	case err == nil:
		return ""
	case errors.As(err, &unknownCA), errors.As(err, &caValue):
		return certBad + ": signed by an unknown CA"
	case errors.As(err, &hostErr):
		return certBad + ": name mismatch (check url or server_name)"
	case errors.As(err, &invalid):
		return certBad + ": expired or not valid for TLS servers"
	case IsCertificate(err):
		return certBad
	case errors.As(err, &recErr):
		return "the server did not answer with TLS (wrong port or scheme?)"
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(msg, "connection refused"):
		return "the server is down or unreachable (connection refused)"
	case errors.As(err, &dnsErr):
		return "cannot resolve the server name"
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "TLS handshake"):
		return "the TLS handshake failed"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout(),
		strings.Contains(msg, "timed out"), strings.Contains(msg, "timeout"):
		return "the server did not answer in time (timed out)"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case IsNetwork(err):
		return "the connection to the server failed"
	}
	return ""
}

// IsCertificate reports a failed verification of the server's certificate.
func IsCertificate(err error) bool {
	var (
		unknownCA *x509.UnknownAuthorityError
		caValue   x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
	)
	if err == nil {
		return false
	}
	if errors.As(err, &unknownCA) || errors.As(err, &caValue) || errors.As(err, &hostErr) || errors.As(err, &invalid) || errors.As(err, &verifyErr) {
		return true
	}
	// Errors flattened into text (fmt %s) keep only the wording.
	msg := err.Error()
	return strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate")
}
