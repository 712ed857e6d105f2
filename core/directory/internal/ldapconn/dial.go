package ldapconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Options say how to reach and secure the server.
type Options struct {
	URL            string // ldap:// or ldaps://, default ports 389 and 636
	StartTLS       bool   // upgrade an ldap:// connection before any other request
	TLS            *tls.Config
	DialTimeout    time.Duration // connect + TLS handshake (cut to the context's deadline)
	RequestTimeout time.Duration // set on the new connection
	// AllowPlain lets an ldap:// URL without StartTLS through; without it
	// such a connection fails with ErrPlain before anything is sent.
	AllowPlain bool
}

// ErrPlain is returned when Options refuse a connection without TLS.
var ErrPlain = errors.New("refusing a plain LDAP connection")

// StageError says which step of Dial failed: "connect", "StartTLS" or
// "TLS handshake". The cause keeps its type (net, x509, tls, *ldap.Error).
type StageError struct {
	Stage string
	Err   error
}

func (e *StageError) Error() string { return e.Stage + ": " + e.Err.Error() }
func (e *StageError) Unwrap() error { return e.Err }

// HostPort returns the address to dial for an LDAP URL, with the default
// port, and whether the scheme is ldaps (TLS from the first byte).
func HostPort(rawURL string) (addr string, implicitTLS bool, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", false, err
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"ldaps": "636", "ldap": "389"}[strings.ToLower(u.Scheme)]
	}
	return u.Hostname() + ":" + port, strings.EqualFold(u.Scheme, "ldaps"), nil
}

// TLSConfig builds the client TLS configuration: TLS 1.2 or later, the CAs
// of caFile (or the system roots when empty) and serverName (or the URL's
// host when empty). insecure disables verification; only tests set it.
func TLSConfig(rawURL, serverName, caFile string, insecure bool) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName,
		InsecureSkipVerify: insecure} //nolint:gosec // test-only switch, refused by the backends' Validate
	if tc.ServerName == "" {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, err
		}
		tc.ServerName = u.Hostname()
	}
	if caFile != "" {
		pool, err := LoadCAs(caFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// LoadCAs reads a PEM bundle of CAs; a file without a certificate is an error.
func LoadCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s holds no PEM certificate", file)
	}
	return pool, nil
}

// Dial connects and secures one connection (LDAPS, or StartTLS done by hand
// so that TLS errors keep their type and the handshake honours ctx). It
// does not bind. A failed StartTLS never falls back to plain text.
func Dial(ctx context.Context, o Options) (*ldap.Conn, error) {
	if o.DialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.DialTimeout)
		defer cancel()
	}
	addr, implicitTLS, err := HostPort(o.URL)
	if err != nil {
		return nil, &StageError{"connect", err}
	}
	secure := implicitTLS || o.StartTLS
	if !secure && !o.AllowPlain {
		return nil, ErrPlain
	}
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &StageError{"connect", err}
	}
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl) //nolint:errcheck // reset below; a failure shows up as an I/O error
	}
	var nc net.Conn = raw
	if o.StartTLS && !implicitTLS {
		if err := startTLS(raw); err != nil {
			raw.Close()
			return nil, &StageError{"StartTLS", err}
		}
	}
	if secure {
		tc := tls.Client(raw, o.TLS.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, &StageError{"TLS handshake", err}
		}
		nc = tc
	}
	raw.SetDeadline(time.Time{}) //nolint:errcheck
	c := ldap.NewConn(nc, secure)
	c.Start()
	c.SetTimeout(o.RequestTimeout)
	return c, nil
}

// startTLS sends the StartTLS extended request on a fresh connection and
// checks the answer, before any other LDAP traffic. A refusal is the
// server's *ldap.Error.
func startTLS(raw net.Conn) error {
	packet := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	packet.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "MessageID"))
	req := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedRequest, nil, "Start TLS")
	req.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "1.3.6.1.4.1.1466.20037", "TLS Extended Command"))
	packet.AppendChild(req)
	if _, err := raw.Write(packet.Bytes()); err != nil {
		return err
	}
	resp, err := ber.ReadPacket(raw)
	if err != nil {
		return err
	}
	return ldap.GetLDAPError(resp)
}
