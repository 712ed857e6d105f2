package ad_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/testserver"
)

// BenchmarkSambaReset measures one ResetPassword round trip against a real
// Samba AD DC over LDAPS: the protection read (user entry with tokenGroups,
// nested-group check) plus the unicodePwd modify, on a pooled connection.
func BenchmarkSambaReset(b *testing.B) {
	s := testserver.SambaDC(b)
	d := open(b, config(s))
	u := directory.User{ID: testserver.SambaASmith.DN}
	pws := []secret.String{secret.New("Bench-Pass-One-1"), secret.New("Bench-Pass-Two-2")}
	ctx := ctxT(b)
	i := 0
	for b.Loop() {
		if err := d.ResetPassword(ctx, u, pws[i%2], directory.ResetOptions{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSambaFind measures one lookup by login.
func BenchmarkSambaFind(b *testing.B) {
	s := testserver.SambaDC(b)
	d := open(b, config(s))
	ctx := ctxT(b)
	for b.Loop() {
		if _, err := d.Find(ctx, directory.ByLogin, "jdoe"); err != nil {
			b.Fatal(err)
		}
	}
}
