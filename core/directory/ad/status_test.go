package ad

import (
	"encoding/binary"
	"math"
	"strconv"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

func ntOf(t time.Time) string { return strconv.FormatInt((t.Unix()+ntEpochDelta)*10_000_000, 10) }

func entry(attrs map[string]string) *ldap.Entry {
	m := map[string][]string{}
	for k, v := range attrs {
		m[k] = []string{v}
	}
	return ldap.NewEntry("CN=x", m)
}

func TestStatus(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	hourAgo := ntOf(now.Add(-time.Hour))
	forever := domainPolicy{LockoutForever: true}
	thirtyMin := domainPolicy{LockoutDuration: 30 * time.Minute, MinPwdAge: 24 * time.Hour}
	tests := []struct {
		name  string
		attrs map[string]string
		pol   domainPolicy
		want  directory.Status
	}{
		{"normal", map[string]string{"userAccountControl": "512", "pwdLastSet": hourAgo}, forever, directory.Status{}},
		{"disabled", map[string]string{"userAccountControl": "514", "pwdLastSet": hourAgo}, forever, directory.Status{Disabled: true}},
		{"locked forever", map[string]string{"lockoutTime": hourAgo, "pwdLastSet": hourAgo}, forever, directory.Status{Locked: true}},
		{"lockout ended", map[string]string{"lockoutTime": hourAgo}, domainPolicy{LockoutDuration: 30 * time.Minute}, directory.Status{}},
		{"locked for a while", map[string]string{"lockoutTime": ntOf(now.Add(-10 * time.Minute))}, domainPolicy{LockoutDuration: 30 * time.Minute},
			directory.Status{Locked: true, LockedUntil: now.Add(20 * time.Minute)}},
		{"computed lockout", map[string]string{"msDS-User-Account-Control-Computed": "16"}, forever, directory.Status{Locked: true}},
		{"must change", map[string]string{"pwdLastSet": "0"}, forever, directory.Status{PasswordExpired: true}},
		{"password expired", map[string]string{"msDS-User-Account-Control-Computed": "8388608", "pwdLastSet": hourAgo}, forever, directory.Status{PasswordExpired: true}},
		{"account expired", map[string]string{"accountExpires": ntOf(now.Add(-time.Minute))}, forever, directory.Status{Expired: true}},
		{"account expires later", map[string]string{"accountExpires": ntOf(now.Add(time.Hour))}, forever, directory.Status{}},
		{"never expires", map[string]string{"accountExpires": strconv.FormatInt(math.MaxInt64, 10)}, forever, directory.Status{}},
		{"too young", map[string]string{"pwdLastSet": hourAgo}, thirtyMin, directory.Status{PasswordChangeableAt: now.Add(23 * time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status(entry(tt.attrs), tt.pol, now); got != tt.want {
				t.Errorf("status = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	p := parsePolicy(entry(map[string]string{"minPwdAge": "-864000000000", "lockoutDuration": "-18000000000"}))
	if p.MinPwdAge != 24*time.Hour || p.LockoutDuration != 30*time.Minute || p.LockoutForever {
		t.Errorf("policy = %+v", p)
	}
	for _, v := range []string{"0", strconv.FormatInt(math.MinInt64, 10)} {
		if p := parsePolicy(entry(map[string]string{"lockoutDuration": v})); !p.LockoutForever {
			t.Errorf("lockoutDuration %s: not forever", v)
		}
	}
}

func sidBytes(authority byte, subs ...uint32) []byte {
	b := []byte{1, byte(len(subs)), 0, 0, 0, 0, 0, authority}
	for _, s := range subs {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return b
}

func TestProtectedByAttrs(t *testing.T) {
	user := sidBytes(5, 21, 1, 2, 3, 1105)
	domainUsers := sidBytes(5, 21, 1, 2, 3, 513)
	mk := func(objectSid []byte, groups [][]byte, attrs map[string]string) *ldap.Entry {
		e := entry(attrs)
		e.Attributes = append(e.Attributes,
			&ldap.EntryAttribute{Name: "objectSid", ByteValues: [][]byte{objectSid}, Values: []string{string(objectSid)}},
			&ldap.EntryAttribute{Name: "tokenGroups", ByteValues: groups})
		return e
	}
	tests := []struct {
		name string
		e    *ldap.Entry
		want bool
	}{
		{"ordinary", mk(user, [][]byte{domainUsers}, nil), false},
		{"adminCount", mk(user, [][]byte{domainUsers}, map[string]string{"adminCount": "1"}), true},
		{"critical", mk(user, [][]byte{domainUsers}, map[string]string{"isCriticalSystemObject": "TRUE"}), true},
		{"built-in account", mk(sidBytes(5, 21, 1, 2, 3, 500), [][]byte{domainUsers}, nil), true},
		{"domain admins", mk(user, [][]byte{domainUsers, sidBytes(5, 21, 1, 2, 3, 512)}, nil), true},
		{"builtin administrators", mk(user, [][]byte{domainUsers, sidBytes(5, 32, 544)}, nil), true},
		{"account operators", mk(user, [][]byte{sidBytes(5, 32, 548)}, nil), true},
		{"no tokenGroups", mk(user, nil, nil), true},
		{"bad sid", mk([]byte{1, 2, 3}, [][]byte{domainUsers}, nil), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := protectedByAttrs(tt.e); got != tt.want {
				t.Errorf("protected = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnicodePwd(t *testing.T) {
	for _, pw := range []string{"Passw0rd!", "é🔐 ", ""} {
		b := []byte(unicodePwd(secret.New(pw)))
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		if got := string(utf16.Decode(u)); got != `"`+pw+`"` {
			t.Errorf("decoded %q, want %q", got, `"`+pw+`"`)
		}
	}
}
