package testserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Names of the throwaway slapd's tree.
const (
	SlapdBaseDN      = "dc=example,dc=org"
	SlapdPeopleDN    = "ou=people," + SlapdBaseDN
	SlapdRootDN      = "cn=admin," + SlapdBaseDN
	SlapdRootPW      = "admin-Root-pw-1"
	SlapdBotDN       = "cn=resetbot,ou=services," + SlapdBaseDN
	SlapdBotPW       = "bot-Service-pw-1"
	SlapdPolicyDN    = "cn=default,ou=policies," + SlapdBaseDN
	SlapdMinAgeDN    = "cn=minage,ou=policies," + SlapdBaseDN
	SlapdTier0DN     = "cn=tier0,ou=groups," + SlapdBaseDN
	SlapdSharedEmpNo = "2000"
	// SlapdDisabledAttr and SlapdDisabledValue mark a disabled account.
	SlapdDisabledAttr  = "employeeType"
	SlapdDisabledValue = "disabled"
	// SlapdMinLength, SlapdHistory and SlapdMinAge are the policies' values.
	SlapdMinLength = 8
	SlapdHistory   = 3
	SlapdMinAge    = time.Hour
)

// SlapdUser is a fixture account of the throwaway slapd.
type SlapdUser struct {
	Login, Given, Surname, Email, Mobile, EmployeeNumber, Password string
	// Locked is a lockout after failed binds: pwdAccountLockedTime holds the
	// start-up time and the policy's pwdLockoutDuration 0 keeps it until unlocked.
	Locked bool
	// AdminLocked is an administrator's lock: pwdAccountLockedTime 000001010000Z.
	AdminLocked bool
	// Expired has a pwdEndTime in the past (the account, not the password).
	Expired   bool
	Disabled  bool // SlapdDisabledAttr: SlapdDisabledValue
	Protected bool // member of SlapdTier0DN
	// MinAge puts the account under the SlapdMinAgeDN policy with a password
	// changed at start-up, so it cannot change yet.
	MinAge bool
}

// DN is the user's entry.
func (u SlapdUser) DN() string { return "uid=" + u.Login + "," + SlapdPeopleDN }

// SlapdRecoveryAttr holds each account's personal address (the PKCS #9
// email attribute of core.schema, under its primary name, allowed by the
// extensibleObject class): map it as attributes.recovery_email. The work
// mailbox (mail) never is.
const SlapdRecoveryAttr = "email"

// RecoveryEmail is the account's personal address of record.
func (u SlapdUser) RecoveryEmail() string { return u.Login + "@personal.example" }

// SlapdUsers are the fixture accounts, in this order: normal, other, locked,
// disabled, protected, two sharing SlapdSharedEmpNo, one under min age, one
// locked by an administrator, one expired.
var SlapdUsers = []SlapdUser{
	{Login: "alice", Given: "Alice", Surname: "Martin", Email: "alice.martin@example.org", Mobile: "+15555550101", EmployeeNumber: "1001", Password: "Alice-Initial-Pw1"},
	{Login: "bob", Given: "Bob", Surname: "Nguyen", Email: "bob.nguyen@example.org", Mobile: "+15555550102", EmployeeNumber: "1002", Password: "Bob-Initial-Pw1"},
	{Login: "carol", Given: "Carol", Surname: "Rossi", Email: "carol.rossi@example.org", Mobile: "+15555550103", EmployeeNumber: "1003", Password: "Carol-Initial-Pw1", Locked: true},
	{Login: "dave", Given: "Dave", Surname: "Okafor", Email: "dave.okafor@example.org", Mobile: "+15555550104", EmployeeNumber: "1004", Password: "Dave-Initial-Pw1", Disabled: true},
	{Login: "eve", Given: "Eve", Surname: "Admin", Email: "eve.admin@example.org", Mobile: "+15555550105", EmployeeNumber: "1005", Password: "Eve-Initial-Pw1", Protected: true},
	{Login: "frank", Given: "Frank", Surname: "Haddad", Email: "frank.haddad@example.org", EmployeeNumber: SlapdSharedEmpNo, Password: "Frank-Initial-Pw1"},
	{Login: "grace", Given: "Grace", Surname: "Haddad", Email: "grace.haddad@example.org", EmployeeNumber: SlapdSharedEmpNo, Password: "Grace-Initial-Pw1"},
	{Login: "mia", Given: "Mia", Surname: "Young", Email: "mia.young@example.org", EmployeeNumber: "1008", Password: "Mia-Initial-Pw1", MinAge: true},
	{Login: "nora", Given: "Nora", Surname: "Held", Email: "nora.held@example.org", Mobile: "+15555550109", EmployeeNumber: "1009", Password: "Nora-Initial-Pw1", AdminLocked: true},
	{Login: "oscar", Given: "Oscar", Surname: "Gone", Email: "oscar.gone@example.org", Mobile: "+15555550110", EmployeeNumber: "1010", Password: "Oscar-Initial-Pw1", Expired: true},
}

// slapdSSHA hashes pw as {SSHA} for slapadd (sha1 is what the scheme is).
func slapdSSHA(pw string) string {
	salt := make([]byte, 8)
	_, _ = rand.Read(salt)
	h := sha1.New()
	h.Write([]byte(pw))
	h.Write(salt)
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h.Sum(nil), salt...))
}

// slapdConf is the server configuration. The bot has write (not manage)
// access: manage, like the rootdn, would bypass ppolicy.
func slapdConf(dir string) string {
	return fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
TLSCertificateFile %[1]s/cert.pem
TLSCertificateKeyFile %[1]s/key.pem
password-hash {SSHA}

database mdb
maxsize 104857600
suffix "%[2]s"
rootdn "%[3]s"
rootpw %[4]s
directory %[1]s/db
index objectClass eq
index uid,mail,mobile,employeeNumber eq
# The expiry listing pages through more than the default 500 entries.
limits dn.exact="%[6]s" size.prtotal=unlimited
overlay ppolicy
ppolicy_default "%[5]s"
ppolicy_use_lockout
ppolicy_hash_cleartext
access to attrs=userPassword
  by dn.exact="%[6]s" write
  by self write
  by anonymous auth
  by * none
access to attrs=pwdAccountLockedTime,pwdFailureTime,pwdReset
  by dn.exact="%[6]s" write
  by * read
access to *
  by dn.exact="%[6]s" write
  by self read
  by users read
  by * none
`, dir, SlapdBaseDN, SlapdRootDN, slapdSSHA(SlapdRootPW), SlapdPolicyDN, SlapdBotDN)
}

// slapdPolicy is a pwdPolicy entry.
func slapdPolicy(dn, cn string, minAge time.Duration) string {
	return fmt.Sprintf(`dn: %s
objectClass: top
objectClass: device
objectClass: pwdPolicy
cn: %s
pwdAttribute: userPassword
pwdMinLength: %d
pwdCheckQuality: 2
pwdInHistory: %d
pwdMinAge: %d
pwdLockout: TRUE
pwdMaxFailure: 5
pwdLockoutDuration: 0
pwdFailureCountInterval: 0
pwdMustChange: TRUE
pwdAllowUserChange: TRUE
pwdSafeModify: FALSE

`, dn, cn, SlapdMinLength, SlapdHistory, int(minAge.Seconds()))
}

// slapdSeed is the initial LDIF loaded with slapadd.
func slapdSeed(now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n", SlapdBaseDN)
	for _, ou := range []string{"people", "services", "policies", "groups"} {
		fmt.Fprintf(&b, "dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n", ou, SlapdBaseDN, ou)
	}
	b.WriteString(slapdPolicy(SlapdPolicyDN, "default", 0))
	b.WriteString(slapdPolicy(SlapdMinAgeDN, "minage", SlapdMinAge))
	fmt.Fprintf(&b, "dn: %s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: resetbot\nuserPassword: %s\n\n",
		SlapdBotDN, slapdSSHA(SlapdBotPW))
	var tier0 []string
	for _, u := range SlapdUsers {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: inetOrgPerson\nobjectClass: extensibleObject\nuid: %s\ncn: %s %s\ndisplayName: %s %s\ngivenName: %s\nsn: %s\nmail: %s\nemployeeNumber: %s\nuserPassword: %s\n",
			u.DN(), u.Login, u.Given, u.Surname, u.Given, u.Surname, u.Given, u.Surname, u.Email, u.EmployeeNumber, slapdSSHA(u.Password))
		if u.Mobile != "" {
			fmt.Fprintf(&b, "mobile: %s\n", u.Mobile)
		}
		fmt.Fprintf(&b, "%s: %s\n", SlapdRecoveryAttr, u.RecoveryEmail())
		switch {
		case u.AdminLocked:
			b.WriteString("pwdAccountLockedTime: 000001010000Z\n")
		case u.Locked:
			fmt.Fprintf(&b, "pwdAccountLockedTime: %s\n", now.UTC().Format("20060102150405Z"))
		}
		if u.Expired {
			fmt.Fprintf(&b, "pwdEndTime: %s\n", now.Add(-24*time.Hour).UTC().Format("20060102150405Z"))
		}
		if u.Disabled {
			fmt.Fprintf(&b, "%s: %s\n", SlapdDisabledAttr, SlapdDisabledValue)
		}
		if u.MinAge {
			fmt.Fprintf(&b, "pwdPolicySubentry: %s\npwdChangedTime: %s\n", SlapdMinAgeDN, now.UTC().Format("20060102150405Z"))
		}
		b.WriteString("\n")
		if u.Protected {
			tier0 = append(tier0, u.DN())
		}
	}
	fmt.Fprintf(&b, "dn: %s\nobjectClass: groupOfNames\ncn: tier0\n", SlapdTier0DN)
	for _, m := range tier0 {
		fmt.Fprintf(&b, "member: %s\n", m)
	}
	b.WriteString("\n")
	return b.String()
}

// SelfSignedCert writes a fresh self-signed EC P-256 certificate for
// 127.0.0.1 and localhost (EC: RSA-2048 generation is 70 times slower) and
// returns the PEM of the certificate, which is its own CA.
func SelfSignedCert(certFile, keyFile string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	return certPEM, nil
}

// slapdPrepare writes the certificate, configuration and data into dir.
func slapdPrepare(dir, slapadd string) error {
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		return err
	}
	if _, err := SelfSignedCert(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(slapdConf(dir)), 0o600); err != nil {
		return err
	}
	seed := filepath.Join(dir, "seed.ldif")
	if err := os.WriteFile(seed, []byte(slapdSeed(time.Now())), 0o600); err != nil {
		return err
	}
	if out, err := slapdRun(slapadd, "-q", "-f", conf, "-l", seed); err != nil {
		return fmt.Errorf("slapadd: %w: %s", err, out)
	}
	return nil
}
