package identity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
)

type fake struct {
	f identity.Factor
	g identity.Group
	s identity.Strength
}

func (m fake) Factor() identity.Factor                           { return m.f }
func (m fake) Group() identity.Group                             { return m.g }
func (m fake) Strength() identity.Strength                       { return m.s }
func (fake) Has(context.Context, identity.Subject) (bool, error) { return false, nil }
func (fake) Challenge(context.Context, identity.Challenge) (identity.Prompt, error) {
	return identity.Prompt{}, nil
}
func (fake) Verify(context.Context, identity.Challenge, secret.String) (identity.Result, error) {
	return identity.Wrong, nil
}

func TestRegistryOrdersByStrength(t *testing.T) {
	email := fake{"email", identity.GroupEmail, identity.StrengthEmail}
	sms := fake{"sms", identity.GroupPhone, identity.StrengthPhone}
	voice := fake{"voice", identity.GroupPhone, identity.StrengthPhone}
	app := fake{"totp", identity.GroupApp, identity.StrengthApp}
	r, err := identity.NewRegistry(email, sms, voice, app)
	if err != nil {
		t.Fatal(err)
	}
	var got []identity.Factor
	for _, m := range r.Methods() {
		got = append(got, m.Factor())
	}
	if want := []identity.Factor{"totp", "sms", "voice", "email"}; len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Fatalf("order %v, want %v", got, want)
	}
	if m, ok := r.Get("voice"); !ok || m.Group() != identity.GroupPhone {
		t.Fatal("voice not found")
	}
	if _, _, ok := r.Enroller(); ok {
		t.Fatal("no method enrolls here")
	}
}

func TestRegistryRefusesBadMethods(t *testing.T) {
	cases := map[string][]identity.Method{
		"empty":       nil,
		"questions":   {fake{identity.FactorQuestions, "q", identity.StrengthEmail}},
		"no group":    {fake{"x", "", identity.StrengthApp}},
		"no strength": {fake{"x", "x", identity.StrengthNone}},
		"twice":       {fake{"sms", "phone", identity.StrengthPhone}, fake{"sms", "phone", identity.StrengthPhone}},
		"nil":         {nil},
	}
	for name, ms := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := identity.NewRegistry(ms...); !errors.Is(err, identity.ErrInvalidConfig) {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func TestStrengthNames(t *testing.T) {
	for s, want := range map[identity.Strength]string{identity.StrengthApp: "authenticator",
		identity.StrengthPhone: "restricted", identity.StrengthEmail: "email", identity.StrengthNone: "none"} {
		if s.String() != want {
			t.Errorf("%d: %s, want %s", s, s.String(), want)
		}
	}
}
