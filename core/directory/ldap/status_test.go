package ldap

import (
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
)

// TestStatusHolds: the administrator's part of the status, from the entry
// alone (no server).
func TestStatusHolds(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	d := &Directory{cfg: Config{Now: func() time.Time { return now },
		DisabledAttribute: "employeeType", DisabledValue: "disabled"}}
	tests := []struct {
		name  string
		attrs map[string][]string
		pol   policy
		want  directory.Status
	}{
		{"nothing", nil, policy{}, directory.Status{}},
		{"failure lock until unlocked", map[string][]string{attrLockedTime: {"20261205110000Z"}}, policy{},
			directory.Status{Locked: true}},
		{"failure lock ended", map[string][]string{attrLockedTime: {"20261205110000Z"}}, policy{lockoutDuration: time.Minute},
			directory.Status{}},
		{"administrator's lock", map[string][]string{attrLockedTime: {permanentLock}}, policy{lockoutDuration: time.Minute},
			directory.Status{Locked: true, AdminLocked: true}},
		{"disabled", map[string][]string{"employeeType": {"Disabled"}}, policy{}, directory.Status{Disabled: true}},
		{"pwdEndTime past", map[string][]string{attrEndTime: {"20261205115959Z"}}, policy{}, directory.Status{Expired: true}},
		{"pwdEndTime future", map[string][]string{attrEndTime: {"20261205120001Z"}}, policy{}, directory.Status{}},
		{"shadowExpire today", map[string][]string{attrShadowExpire: {"20792"}}, policy{}, directory.Status{Expired: true}},
		{"shadowExpire tomorrow", map[string][]string{attrShadowExpire: {"20793"}}, policy{}, directory.Status{}},
		{"shadowExpire never", map[string][]string{attrShadowExpire: {"-1"}}, policy{}, directory.Status{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.status(ldap.NewEntry("uid=x,dc=example,dc=org", tt.attrs), tt.pol, false)
			if got != tt.want {
				t.Errorf("status = %+v, want %+v", got, tt.want)
			}
		})
	}
}
