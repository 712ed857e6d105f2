package identity_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/identity"
)

func TestResultString(t *testing.T) {
	tests := []struct {
		r    identity.Result
		want string
	}{
		{identity.Wrong, "wrong"},
		{identity.Verified, "verified"},
		{identity.Expired, "expired"},
		{identity.Exhausted, "exhausted"},
		{identity.Replayed, "replayed"},
		{identity.Result(99), "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if tt.r.OK() != (tt.r == identity.Verified) {
				t.Error("OK() disagrees with Verified")
			}
		})
	}
	var zero identity.Result
	if zero.OK() {
		t.Error("the zero Result must fail closed")
	}
}

func TestFactorValid(t *testing.T) {
	for _, f := range identity.Factors() {
		if !f.Valid() {
			t.Errorf("%q not valid", f)
		}
	}
	if identity.Factor("password").Valid() {
		t.Error("unknown factor valid")
	}
}
