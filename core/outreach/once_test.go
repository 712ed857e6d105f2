package outreach_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/store/memory"
)

func TestOnceClaimsEachEventOnce(t *testing.T) {
	keys, err := outreach.NewKeys(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	o := outreach.Once{St: memory.New(), Keys: keys}
	for i, tc := range []struct {
		parts []string
		want  bool
	}{
		{[]string{"ad", "cn=alice", "133"}, true},
		{[]string{"ad", "cn=alice", "133"}, false},
		{[]string{"ad", "cn=alice", "134"}, true},
		{[]string{"ad", "cn=bob", "133"}, true},
	} {
		got, err := o.Claim(t.Context(), "lockout", time.Hour, tc.parts...)
		if err != nil || got != tc.want {
			t.Fatalf("claim %d = %v, %v; want %v", i, got, err, tc.want)
		}
	}
}

func TestAllowLimitsPerSubject(t *testing.T) {
	keys, _ := outreach.NewKeys(bytes.Repeat([]byte{7}, 32))
	o := outreach.Once{St: memory.New(), Keys: keys}
	var got []bool
	for range 3 {
		ok, err := o.Allow(t.Context(), "lockout", 2, time.Hour, "cn=alice")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ok)
	}
	if !got[0] || !got[1] || got[2] {
		t.Fatalf("allow = %v, want [true true false]", got)
	}
	if ok, _ := o.Allow(t.Context(), "lockout", 2, time.Hour, "cn=bob"); !ok {
		t.Fatal("another user shares alice's budget")
	}
}

func TestKeysHoldNoIdentifier(t *testing.T) {
	keys, _ := outreach.NewKeys(bytes.Repeat([]byte{7}, 32))
	n := keys.Name("once:lockout", "cn=alice,dc=example", "133")
	if strings.Contains(n, "alice") || !strings.HasPrefix(n, "out:once:lockout:{") {
		t.Fatalf("key %q", n)
	}
	if _, err := outreach.NewKeys([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}
