package email

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/notify"
)

// TestCAFile: notify.email.ca_file makes the relay's private CA the
// trusted root (TLS stays mandatory); a file without a certificate is refused.
func TestCAFile(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Corp Mail CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	tc, err := caTLS(ca)
	if err != nil || tc == nil || tc.RootCAs == nil {
		t.Fatalf("ca_file: %v, %v", tc, err)
	}
	cert, _ := x509.ParseCertificate(der)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: tc.RootCAs}); err != nil {
		t.Fatalf("the CA is not trusted: %v", err)
	}
	junk := filepath.Join(dir, "junk.pem")
	_ = os.WriteFile(junk, []byte("not a certificate"), 0o600)
	if _, err := caTLS(junk); err == nil {
		t.Fatal("a file without a certificate was accepted")
	}
	// Open builds the sender with the CA trusted, and refuses the junk.
	c := DefaultConfig()
	c.Host, c.From, c.CAFile = "smtp.corp.example", "resetbot@corp.example", ca
	senders, err := c.Open(t.Context(), notify.Deps{Production: true})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := senders[notify.ChannelEmail].(*Sender)
	if !ok || len(senders) != 1 || s.cfg.TLSConfig == nil || !s.cfg.TLSConfig.RootCAs.Equal(tc.RootCAs) ||
		s.cfg.Port != 587 || s.cfg.Timeout != DefaultTimeout {
		t.Fatalf("senders %v", senders)
	}
	c.CAFile = junk
	if _, err := c.Open(t.Context(), notify.Deps{}); err == nil {
		t.Fatal("Open accepted a ca_file without a certificate")
	}
}
