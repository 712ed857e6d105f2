package app

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// smtpTLS returns the TLS settings for the SMTP relay: nil (the system
// roots) when caFile is empty, otherwise a pool of the CAs in caFile, so a
// relay with a private CA works with TLS still mandatory.
func smtpTLS(caFile string) (*tls.Config, error) {
	if caFile == "" {
		return nil, nil
	}
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
