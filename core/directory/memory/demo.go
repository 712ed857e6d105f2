package memory

import (
	"errors"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

// DemoAck is the acknowledgement NewDemo requires. Its only accepted value is
// AckDemoOnly, so a configuration file can never select the demo directory
// by accident: whoever wires it (the `resetbot demo` command, or a config
// loader behind an explicit `demo: true` switch) must name the constant in code.
type DemoAck string

// AckDemoOnly acknowledges that the demo directory holds fake accounts with
// published passwords and must never back a production service.
const AckDemoOnly DemoAck = "fake accounts with published passwords; never production"

// ErrNotAcknowledged is returned by NewDemo without AckDemoOnly.
var ErrNotAcknowledged = errors.New("memory directory: the demo directory needs memory.AckDemoOnly")

// DemoDomain is the email domain of the demo company.
const DemoDomain = "demo.example"

// DemoPersonalDomain is the domain of the demo accounts' personal addresses.
const DemoPersonalDomain = "personal.example"

// NewDemo returns a directory holding the demo company (see DemoAccounts).
func NewDemo(ack DemoAck) (*Directory, error) {
	if ack != AckDemoOnly {
		return nil, ErrNotAcknowledged
	}
	return New(DemoAccounts()...), nil
}

// DemoAccounts returns the demo company's accounts, passwords included
// (they are published in the demo's documentation):
//
//	amartin  Alice Martin   normal          Winter-Garden-42
//	bnguyen  Bao Nguyen     normal          Harbor-Lights-77
//	crossi   Chiara Rossi   locked          Amber-Meadow-19
//	dokafor  David Okafor   disabled        Quiet-River-63
//	eadmin   Elena Admin    protected admin Granite-Tower-88
//	fhaddad  Farah Haddad   normal          Copper-Kettle-25
func DemoAccounts() []Account {
	mk := func(login, given, sur, mobile, emp, pw string) Account {
		return Account{
			User: directory.User{
				ID:             "uid=" + login + ",ou=people,dc=demo,dc=example",
				Login:          login,
				DisplayName:    given + " " + sur,
				GivenName:      given,
				Surname:        sur,
				Email:          lower(given) + "." + lower(sur) + "@" + DemoDomain,
				Mobile:         mobile,
				EmployeeNumber: emp,
				// A personal address of record: the only address email
				// codes go to (the work mailbox above never is a factor).
				RecoveryEmail: lower(given) + "@" + DemoPersonalDomain,
			},
			Password: secret.New(pw),
		}
	}
	alice := mk("amartin", "Alice", "Martin", "+15555550101", "10041", "Winter-Garden-42")
	bao := mk("bnguyen", "Bao", "Nguyen", "+15555550102", "10057", "Harbor-Lights-77")
	chiara := mk("crossi", "Chiara", "Rossi", "+15555550103", "10063", "Amber-Meadow-19")
	chiara.Locked = true
	david := mk("dokafor", "David", "Okafor", "+15555550104", "10072", "Quiet-River-63")
	david.Disabled = true
	elena := mk("eadmin", "Elena", "Admin", "+15555550105", "10001", "Granite-Tower-88")
	elena.Protected = true
	farah := mk("fhaddad", "Farah", "Haddad", "+15555550106", "10088", "Copper-Kettle-25")
	farah.Manager = alice.ID // notices may go to the manager (factors.policy.notify_manager)
	return []Account{alice, bao, chiara, david, elena, farah}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
