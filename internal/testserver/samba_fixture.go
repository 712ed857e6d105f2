package testserver

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Samba domain constants shared by every throwaway DC (all clones of the golden
// DC share the domain, its SID and the DC host name; they differ by IP).
const (
	SambaRealm  = "SAMDOM.EXAMPLE.ORG"
	SambaDomain = "samdom.example.org"
	SambaBaseDN = "DC=samdom,DC=example,DC=org"
	// SambaAdminPassword is the password of the built-in Administrator.
	SambaAdminPassword = "Passw0rd!Admin"
	// SambaInitialPassword is the password every fixture user starts with.
	SambaInitialPassword = "Initial!Pass1"
	// SambaProtectedGroupDN is a group whose members (through a nested group)
	// must be treated as protected: configure it as a protected group.
	SambaProtectedGroupDN = "CN=Tier0 Operators,OU=Groups," + SambaBaseDN
	// SambaNestedGroupDN is a member of SambaProtectedGroupDN.
	SambaNestedGroupDN = "CN=Helpdesk Leads,OU=Groups," + SambaBaseDN
	// SambaPeopleOU is the OU the bot service account may write to.
	SambaPeopleOU = "OU=People," + SambaBaseDN
	// SambaComputerLogin is the sAMAccountName of a computer account in
	// SambaPeopleOU; lookups must never return it.
	SambaComputerLogin = "WS01$"
	// SambaComputerEmployeeID is set on the computer account too.
	SambaComputerEmployeeID = "9009"
	// SambaContactMail is the mail of a contact object (objectCategory=person,
	// objectClass=contact); lookups must never return it.
	SambaContactMail = "carl.contact@example.org"
	// SambaSharedMobile is held by two users (SambaShared1 and SambaShared2).
	SambaSharedMobile = "+15550199"
	// SambaSharedEmployeeID is held by SambaShared1 and SambaShared2.
	SambaSharedEmployeeID = "2000"
)

// SambaUser is a fixture account of the golden DC.
type SambaUser struct {
	DN          string
	Login       string // sAMAccountName
	UPN         string // userPrincipalName
	Password    string
	GivenName   string
	Surname     string
	DisplayName string
	Email       string
	Mobile      string
	EmployeeID  string
	// RecoveryEmail is a personal address in SambaRecoveryAttr; never mail.
	RecoveryEmail string
}

// SambaRecoveryAttr holds each account's personal address: map it as
// attributes.recovery_email.
const SambaRecoveryAttr = "otherMailbox"

func sambaUser(cn, login, ou, given, sn, mail, mobile, empID string) SambaUser {
	return SambaUser{
		DN:          "CN=" + cn + "," + ou,
		Login:       login,
		UPN:         login + "@" + SambaDomain,
		Password:    SambaInitialPassword,
		GivenName:   given,
		Surname:     sn,
		DisplayName: cn,
		Email:       mail,
		Mobile:      mobile,
		EmployeeID:  empID,
	}.withRecovery()
}

// Fixture accounts. The bot may reset and unlock everyone in SambaPeopleOU
// (it holds only the Reset Password right and write access to pwdLastSet and
// lockoutTime there); it has no rights on SambaOutsider or Administrator.
var (
	// SambaBot is the least-privilege service account resetbot binds as.
	SambaBot = sambaUser("Reset Bot", "resetbot", "CN=Users,"+SambaBaseDN, "Reset", "Bot", "", "", "")
	// SambaJDoe is an ordinary user with mail, mobile and employeeID.
	SambaJDoe = sambaUser("John Doe", "jdoe", SambaPeopleOU, "John", "Doe", "jdoe@example.org", "+15550100", "1001")
	// SambaASmith is a second ordinary user.
	SambaASmith = sambaUser("Alice Smith", "asmith", SambaPeopleOU, "Alice", "Smith", "alice.smith@example.org", "+15550101", "1002")
	// SambaLocked is locked out (lockoutTime set; the domain lockout never ends by itself).
	SambaLocked = sambaUser("Lou Locked", "llocked", SambaPeopleOU, "Lou", "Locked", "lou.locked@example.org", "+15550102", "1003")
	// SambaDisabled has ACCOUNTDISABLE set.
	SambaDisabled = sambaUser("Dana Disabled", "ddisabled", SambaPeopleOU, "Dana", "Disabled", "dana.disabled@example.org", "+15550103", "1004")
	// SambaExpired has an accountExpires in the past.
	SambaExpired = sambaUser("Eve Expired", "eexpired", SambaPeopleOU, "Eve", "Expired", "eve.expired@example.org", "+15550104", "1005")
	// SambaMustChange has pwdLastSet=0 (password expired, must change at next logon).
	SambaMustChange = sambaUser("Max Mustchange", "mmust", SambaPeopleOU, "Max", "Mustchange", "max.mustchange@example.org", "+15550105", "1006")
	// SambaAdminCount has adminCount=1 (an AD-protected account).
	SambaAdminCount = sambaUser("Pat Admin", "padmin", SambaPeopleOU, "Pat", "Admin", "pat.admin@example.org", "+15550106", "1007")
	// SambaNested is a member of SambaNestedGroupDN, itself in SambaProtectedGroupDN.
	SambaNested = sambaUser("Nina Nested", "nnested", SambaPeopleOU, "Nina", "Nested", "nina.nested@example.org", "+15550107", "1008")
	// SambaShared1 and SambaShared2 share SambaSharedMobile and SambaSharedEmployeeID.
	SambaShared1 = sambaUser("Sam Shared", "sshared", SambaPeopleOU, "Sam", "Shared", "sam.shared@example.org", SambaSharedMobile, SambaSharedEmployeeID)
	// SambaShared2 shares SambaSharedMobile with SambaShared1.
	SambaShared2 = sambaUser("Sid Shared", "sshared2", SambaPeopleOU, "Sid", "Shared", "sid.shared@example.org", SambaSharedMobile, SambaSharedEmployeeID)
	// SambaOutsider lives in CN=Users, where the bot has no rights.
	SambaOutsider = sambaUser("Otto Outside", "oout", "CN=Users,"+SambaBaseDN, "Otto", "Outside", "otto.outside@example.org", "+15550111", "1011")
	// SambaAdministrator is the built-in Administrator (adminCount=1, Domain Admins).
	SambaAdministrator = SambaUser{
		DN: "CN=Administrator,CN=Users," + SambaBaseDN, Login: "Administrator",
		UPN: "Administrator@" + SambaDomain, Password: SambaAdminPassword,
	}
)

// SambaUsers lists the fixture people in SambaPeopleOU and the outsider.
func SambaUsers() []SambaUser {
	return []SambaUser{SambaJDoe, SambaASmith, SambaLocked, SambaDisabled, SambaExpired,
		SambaMustChange, SambaAdminCount, SambaNested, SambaShared1, SambaShared2, SambaOutsider}
}

// SambaUnicodePwd encodes a password the way AD wants it in unicodePwd:
// the password in double quotes, as UTF-16LE.
func SambaUnicodePwd(pw string) string {
	q := utf16.Encode([]rune(`"` + pw + `"`))
	b := make([]byte, 2*len(q))
	for i, c := range q {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return string(b)
}

// sambaPolicyLDIF sets a test-friendly domain policy: complexity on, length
// 8, history 5, no minimum or maximum age, lockout after 3 failures until an
// administrator unlocks (the values samba-tool passwordsettings would write).
func sambaPolicyLDIF() string {
	mods := [][2]string{
		{"minPwdAge", "0"}, {"maxPwdAge", "-9223372036854775808"},
		{"minPwdLength", "8"}, {"pwdHistoryLength", "5"}, {"pwdProperties", "1"},
		{"lockoutThreshold", "3"}, {"lockoutDuration", "-9223372036854775808"},
		{"lockOutObservationWindow", "-18000000000"},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nchangetype: modify\n", SambaBaseDN)
	for i, m := range mods {
		if i > 0 {
			b.WriteString("-\n")
		}
		fmt.Fprintf(&b, "replace: %s\n%s: %s\n", m[0], m[0], m[1])
	}
	return b.String() + "\n"
}

func sambaUserLDIF(u SambaUser, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nchangetype: add\nobjectClass: user\nsAMAccountName: %s\n", u.DN, u.Login)
	fmt.Fprintf(&b, "userPrincipalName: %s\ndisplayName: %s\n", u.UPN, u.DisplayName)
	for _, kv := range [][2]string{{"givenName", u.GivenName}, {"sn", u.Surname},
		{"mail", u.Email}, {"mobile", u.Mobile}, {"employeeID", u.EmployeeID}, {SambaRecoveryAttr, u.RecoveryEmail}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "%s: %s\n", kv[0], kv[1])
		}
	}
	fmt.Fprintf(&b, "unicodePwd:: %s\n", base64.StdEncoding.EncodeToString([]byte(SambaUnicodePwd(u.Password))))
	uac := "userAccountControl: 512" // NORMAL_ACCOUNT; ldb's default is disabled
	for _, e := range extra {
		if strings.HasPrefix(e, "userAccountControl:") {
			uac = e
			continue
		}
		b.WriteString(e + "\n")
	}
	return b.String() + uac + "\n\n"
}

// sambaBaseLDIF creates the OUs, the groups and the bot account: everything
// that must exist before the bot's rights are granted on SambaPeopleOU.
func sambaBaseLDIF() string {
	var b strings.Builder
	b.WriteString(sambaPolicyLDIF())
	for _, ou := range []string{SambaPeopleOU, "OU=Groups," + SambaBaseDN} {
		fmt.Fprintf(&b, "dn: %s\nchangetype: add\nobjectClass: organizationalUnit\n\n", ou)
	}
	// 0x10200 = NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD, as for a service account.
	b.WriteString(sambaUserLDIF(SambaBot, "userAccountControl: 66048"))
	return b.String()
}

// sambaPeopleLDIF creates the fixture people, groups, a computer and a contact.
// lockedAt is the lockoutTime (NT time) written for SambaLocked.
func sambaPeopleLDIF(lockedAt int64) string {
	var b strings.Builder
	b.WriteString(sambaUserLDIF(SambaJDoe))
	b.WriteString(sambaUserLDIF(SambaASmith))
	b.WriteString(sambaUserLDIF(SambaLocked))
	b.WriteString(sambaUserLDIF(SambaDisabled, "userAccountControl: 514"))
	// accountExpires 2009-10-20: long past.
	b.WriteString(sambaUserLDIF(SambaExpired, "accountExpires: 129000000000000000"))
	b.WriteString(sambaUserLDIF(SambaMustChange))
	b.WriteString(sambaUserLDIF(SambaAdminCount, "adminCount: 1"))
	b.WriteString(sambaUserLDIF(SambaNested))
	b.WriteString(sambaUserLDIF(SambaShared1))
	b.WriteString(sambaUserLDIF(SambaShared2))
	b.WriteString(sambaUserLDIF(SambaOutsider))
	// Global security groups (groupType 0x80000002).
	fmt.Fprintf(&b, "dn: %s\nchangetype: add\nobjectClass: group\nsAMAccountName: helpdesk-leads\ngroupType: -2147483646\nmember: %s\n\n",
		SambaNestedGroupDN, SambaNested.DN)
	fmt.Fprintf(&b, "dn: %s\nchangetype: add\nobjectClass: group\nsAMAccountName: tier0-operators\ngroupType: -2147483646\nmember: %s\n\n",
		SambaProtectedGroupDN, SambaNestedGroupDN)
	// A workstation account (objectClass computer derives from user).
	fmt.Fprintf(&b, "dn: CN=WS01,%s\nchangetype: add\nobjectClass: computer\nsAMAccountName: %s\nuserAccountControl: 4096\nemployeeID: %s\n\n",
		SambaPeopleOU, SambaComputerLogin, SambaComputerEmployeeID)
	fmt.Fprintf(&b, "dn: CN=Carl Contact,%s\nchangetype: add\nobjectClass: contact\nmail: %s\n\n", SambaPeopleOU, SambaContactMail)
	fmt.Fprintf(&b, "dn: %s\nchangetype: modify\nreplace: lockoutTime\nlockoutTime: %d\n-\nreplace: badPwdCount\nbadPwdCount: 3\n\n",
		SambaLocked.DN, lockedAt)
	fmt.Fprintf(&b, "dn: %s\nchangetype: modify\nreplace: pwdLastSet\npwdLastSet: 0\n\n", SambaMustChange.DN)
	return b.String()
}

// sambaBotACL grants the bot (by SID) the Reset Password extended right and
// write access to pwdLastSet and lockoutTime on user objects below SambaPeopleOU,
// and nothing else: the least privilege a reset bot needs.
func sambaBotACL(sid string) string {
	const user = "bf967aba-0de6-11d0-a285-00aa003049e2"
	aces := []string{
		"OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529", // User-Force-Change-Password
		"OA;CIIO;WP;bf967a0a-0de6-11d0-a285-00aa003049e2", // pwdLastSet
		"OA;CIIO;WP;28630ebf-41d5-11d1-a9c1-0000f80367c1", // lockoutTime
	}
	var b strings.Builder
	for _, a := range aces {
		fmt.Fprintf(&b, "(%s;%s;%s)", a, user, sid)
	}
	return b.String()
}

// withRecovery gives an account with a work mailbox a personal address too.
func (u SambaUser) withRecovery() SambaUser {
	if u.Email != "" {
		u.RecoveryEmail = u.Login + "@personal.example"
	}
	return u
}
