package ad

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
)

// userAccountControl and msDS-User-Account-Control-Computed flags.
const (
	uacAccountDisable  = 0x0002
	uacLockout         = 0x0010
	uacPasswordExpired = 0x800000
)

// Attributes read for Status and the protection check.
var statusAttrs = []string{
	"userAccountControl", "msDS-User-Account-Control-Computed", "lockoutTime",
	"pwdLastSet", "accountExpires", "adminCount", "isCriticalSystemObject",
	"objectSid", "tokenGroups",
}

// ntEpochDelta is the number of seconds between 1601-01-01 and 1970-01-01.
const ntEpochDelta = 11644473600

// ntTime converts an AD timestamp (100 ns intervals since 1601, UTC). Zero
// and the "never" value (max int64) give the zero time.
func ntTime(v int64) time.Time {
	if v <= 0 || v == math.MaxInt64 {
		return time.Time{}
	}
	return time.Unix(v/10_000_000-ntEpochDelta, (v%10_000_000)*100).UTC()
}

// ntInterval converts a domain policy interval (negative 100 ns ticks, as in
// minPwdAge or lockoutDuration). "Forever" (math.MinInt64) gives ok=false.
func ntInterval(v int64) (d time.Duration, forever bool) {
	if v == math.MinInt64 {
		return 0, true
	}
	if v < 0 {
		v = -v
	}
	return time.Duration(v) * 100, false
}

func attrInt(e *ldap.Entry, name string) int64 {
	v, err := strconv.ParseInt(e.GetAttributeValue(name), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// domainPolicy is what Status needs from the domain object.
type domainPolicy struct {
	MinPwdAge       time.Duration
	LockoutDuration time.Duration
	LockoutForever  bool // lockoutDuration "forever" or 0: until an administrator unlocks
}

var policyAttrs = []string{"minPwdAge", "lockoutDuration"}

func parsePolicy(e *ldap.Entry) domainPolicy {
	var p domainPolicy
	p.MinPwdAge, _ = ntInterval(attrInt(e, "minPwdAge"))
	ld := attrInt(e, "lockoutDuration")
	p.LockoutDuration, p.LockoutForever = ntInterval(ld)
	if ld == 0 {
		p.LockoutForever = true
	}
	return p
}

// status computes the account state from a user entry and the domain policy.
func status(e *ldap.Entry, pol domainPolicy, now time.Time) directory.Status {
	uac := attrInt(e, "userAccountControl")
	computed := attrInt(e, "msDS-User-Account-Control-Computed")
	var st directory.Status
	st.Disabled = uac&uacAccountDisable != 0
	st.PasswordExpired = (uac|computed)&uacPasswordExpired != 0 || e.GetAttributeValue("pwdLastSet") == "0"
	if exp := attrInt(e, "accountExpires"); exp > 0 && exp != math.MaxInt64 {
		st.Expired = !ntTime(exp).After(now)
	}
	// lockoutTime stays set after the lockout duration has passed, until the
	// next logon: only a lockout that has not yet ended counts.
	if lt := ntTime(attrInt(e, "lockoutTime")); !lt.IsZero() {
		switch {
		case pol.LockoutForever:
			st.Locked = true
		case lt.Add(pol.LockoutDuration).After(now):
			st.Locked = true
			st.LockedUntil = lt.Add(pol.LockoutDuration)
		}
	}
	if computed&uacLockout != 0 {
		st.Locked = true
	}
	if pls := ntTime(attrInt(e, "pwdLastSet")); !pls.IsZero() && pol.MinPwdAge > 0 {
		if at := pls.Add(pol.MinPwdAge); at.After(now) {
			st.PasswordChangeableAt = at
		}
	}
	return st
}

// Well-known relative IDs of privileged groups in the account domain, and
// privileged BUILTIN aliases (S-1-5-32-x). Members of these are protected.
var (
	privilegedDomainRIDs  = map[uint32]bool{512: true, 516: true, 518: true, 519: true, 521: true, 498: true}
	privilegedBuiltinRIDs = map[uint32]bool{544: true, 548: true, 549: true, 550: true, 551: true, 552: true}
)

// sid is a parsed binary security identifier.
type sid struct {
	authority uint64
	subs      []uint32
}

func parseSID(b []byte) (sid, error) {
	if len(b) < 8 || b[0] != 1 || len(b) != 8+4*int(b[1]) {
		return sid{}, fmt.Errorf("ad: malformed SID (%d bytes)", len(b))
	}
	var s sid
	for _, x := range b[2:8] {
		s.authority = s.authority<<8 | uint64(x)
	}
	for i := range int(b[1]) {
		s.subs = append(s.subs, binary.LittleEndian.Uint32(b[8+4*i:]))
	}
	return s, nil
}

func (s sid) rid() uint32 {
	if len(s.subs) == 0 {
		return 0
	}
	return s.subs[len(s.subs)-1]
}

// builtinPrivileged reports S-1-5-32-{544,548,...}.
func (s sid) builtinPrivileged() bool {
	return s.authority == 5 && len(s.subs) == 2 && s.subs[0] == 32 && privilegedBuiltinRIDs[s.subs[1]]
}

// domainAccount reports S-1-5-21-a-b-c-RID (an account of some domain).
func (s sid) domainAccount() bool {
	return s.authority == 5 && len(s.subs) == 5 && s.subs[0] == 21
}

// protectedByAttrs applies the checks that need no extra query: adminCount=1
// (AD's own mark for accounts in protected groups), critical system objects,
// built-in accounts (RID below 1000: Administrator, Guest, krbtgt) and
// membership in privileged groups, read from tokenGroups (which, unlike
// memberOf, includes nested groups and the primary group).
func protectedByAttrs(e *ldap.Entry) bool {
	if e.GetAttributeValue("adminCount") == "1" || e.GetAttributeValue("isCriticalSystemObject") == "TRUE" {
		return true
	}
	s, err := parseSID(e.GetRawAttributeValue("objectSid"))
	if err != nil || (s.domainAccount() && s.rid() < 1000) {
		return true // fail closed: no readable SID, or a built-in account
	}
	groups := e.GetRawAttributeValues("tokenGroups")
	if len(groups) == 0 {
		return true // fail closed: tokenGroups unreadable (every account has a primary group)
	}
	for _, g := range groups {
		gs, err := parseSID(g)
		if err != nil {
			return true
		}
		if gs.builtinPrivileged() || gs.domainAccount() && privilegedDomainRIDs[gs.rid()] {
			return true
		}
	}
	return false
}
