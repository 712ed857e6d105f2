package totp_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/factor"
	"github.com/resetbot/resetbot/core/identity/totp"
	"github.com/resetbot/resetbot/core/store/memory"
)

type problems []string

func (p *problems) Errorf(path, f string, a ...any) { *p = append(*p, path+": "+fmt.Sprintf(f, a...)) }
func (p *problems) Warnf(string, string, ...any)    {}
func (p *problems) Given(string) bool               { return false }
func (p *problems) Production() bool                { return true }
func (p *problems) FileExists(string, string)       {}

func TestFactorConfig(t *testing.T) {
	c := totp.NewConfig().(*totp.Config)
	var ps problems
	c.Validate(&ps, "factors.totp")
	if len(ps) != 0 || c.Issuer != totp.DefaultIssuer {
		t.Fatalf("defaults: %q %v", c.Issuer, ps)
	}
	for _, bad := range []string{"", "Acme:IT"} {
		ps = nil
		(&totp.Config{Issuer: bad}).Validate(&ps, "factors.totp")
		if len(ps) != 1 || ps[0][:len("factors.totp.issuer")] != "factors.totp.issuer" {
			t.Errorf("issuer %q: %v", bad, ps)
		}
	}
	kr, err := crypt.NewKeyring("k1", map[string][]byte{"k1": make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Open(context.Background(), factor.Deps{Store: memory.New(), Keyring: kr})
	if err != nil || m.Factor() != identity.FactorTOTP || c.Group() != m.Group() {
		t.Fatalf("open: %v %v", m, err)
	}
}
