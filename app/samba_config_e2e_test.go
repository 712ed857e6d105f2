package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestSambaConfiguredLogin: attributes.login and user_filter written in the
// ad block of a YAML configuration reach the AD backend. With login
// employeeID a chat reset by employee ID resets the account, and with a
// user_filter that leaves the account out the account is not found by
// either login (on main both keys were dropped: the login was always
// sAMAccountName and the filter ignored).
func TestSambaConfiguredLogin(t *testing.T) {
	u := testserver.SambaJDoe
	dir := func(keys string) string {
		return strings.Replace(sambaDir, "      attributes: {recovery_email: ",
			keys+"      attributes: {login: employeeID, recovery_email: ", 1)
	}
	s := testserver.SambaDC(t)
	const pw = "Lantern-Violet-Ocean-7"
	r := newRig(t, yamlConfig(t, demoHead+dir(""), sambaEnv(s)))
	r.expect(r.chatReset("U1", u.EmployeeID, pw), "done", "reset.done")
	if err := s.Bind(u.UPN, pw); err != nil {
		t.Fatalf("reset by employee ID as login: new password does not bind: %v", err)
	}

	r2 := newRig(t, yamlConfig(t, demoHead+dir("      user_filter: \"(!(employeeID="+u.EmployeeID+"))\"\n"), sambaEnv(s)))
	for _, login := range []string{u.EmployeeID, u.Login} {
		if us, err := r2.a.Directory.Find(context.Background(), directory.ByLogin, login); err != nil || len(us) != 0 {
			t.Errorf("Find(%s) with a user_filter that leaves the account out = %+v, %v; want none", login, us, err)
		}
	}
	if us, err := r2.a.Directory.Find(context.Background(), directory.ByLogin, testserver.SambaASmith.EmployeeID); err != nil || len(us) != 1 {
		t.Errorf("Find(%s) inside user_filter = %+v, %v; want one", testserver.SambaASmith.EmployeeID, us, err)
	}
	r.assertNoLeaks(pw, u.Password, testserver.SambaBot.Password)
}
