package ldaptarget_test

import (
	"context"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/ad"
	"github.com/resetbot/resetbot/core/fanout"
	"github.com/resetbot/resetbot/core/fanout/ldaptarget"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestSambaADAsATarget: a reset of the slapd account with employeeNumber
// 1001 reaches the Samba AD account with employeeID 1001 (jdoe), which then
// binds with the new password.
func TestSambaADAsATarget(t *testing.T) {
	s := testserver.SambaDC(t)
	tg, err := ldaptarget.Config{Name: "partner", Label: "the partner domain", Match: directory.ByEmployeeNumber,
		OpenDirectory: func(ctx context.Context) (directory.Directory, error) {
			return ad.Open(ctx, ad.Config{Name: "partner", Settings: ad.Settings{URL: s.URL, CAFile: s.CAFile,
				BindDN: testserver.SambaBot.UPN, BindPassword: secret.New(testserver.SambaBot.Password),
				BaseDN: s.BaseDN, ProtectedGroups: []string{testserver.SambaProtectedGroupDN}}, Domain: s.Domain})
		}}.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tg.(fanout.Closer).Close() })
	u := directory.User{ID: testserver.SlapdUsers[0].DN(), Login: "alice", EmployeeNumber: "1001"}
	const pw = "Partner-Fanout-Passw0rd-61"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := tg.Push(ctx, fanout.Request{Ref: "REF-AD", User: u, Password: secret.New(pw)}); err != nil {
		t.Fatal(err)
	}
	t.Logf("AD push took %s", time.Since(start))
	if err := s.Bind(testserver.SambaJDoe.UPN, pw); err != nil {
		t.Fatalf("bind with the new password: %v", err)
	}
	// A shared employee number is never guessed at.
	u.EmployeeNumber = testserver.SambaShared1.EmployeeID
	if err := tg.Push(ctx, fanout.Request{Ref: "REF-AD2", User: u, Password: secret.New(pw)}); err == nil {
		t.Fatal("an ambiguous account was reset")
	}
}
