package kerberos

import (
	"strings"
	"testing"
)

// TestNamesKeepTheirLengthBounds holds the patterns, now written without a
// counted repetition, to the bounds they had: 1 to 255 bytes for a realm,
// 1 to 256 for a login, first character alphanumeric.
func TestNamesKeepTheirLengthBounds(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"CORP.EXAMPLE", true}, {"A", true}, {"", false}, {".CORP", false}, {"corp.example", false},
		{"CORP EXAMPLE", false}, {"A" + strings.Repeat("B", 254), true}, {"A" + strings.Repeat("B", 255), false},
	} {
		if got := validRealm(c.s); got != c.want {
			t.Errorf("validRealm(%.20q… %d bytes) = %v", c.s, len(c.s), got)
		}
	}
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"alice.martin", true}, {"a_b-c", true}, {"", false}, {"-alice", false}, {"alice/admin", false},
		{"alice@CORP", false}, {"a\nb", false}, {"a" + strings.Repeat("b", 255), true}, {"a" + strings.Repeat("b", 256), false},
	} {
		if got := validUser(c.s); got != c.want {
			t.Errorf("validUser(%.20q… %d bytes) = %v", c.s, len(c.s), got)
		}
	}
}
