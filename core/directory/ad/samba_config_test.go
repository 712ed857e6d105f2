package ad_test

import (
	"errors"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestSambaLoginAttribute: attributes.login, display_name, given_name and
// surname are what a lookup matches and reads, not hard-coded names. With
// login employeeID, "1001" finds jdoe (and User.Login is "1001") while his
// sAMAccountName no longer does; the name fields come from the mapped
// attributes.
//
// userPrincipalName (and login@domain) is still matched whatever the login
// attribute, as documented.
func TestSambaLoginAttribute(t *testing.T) {
	s := testserver.SambaDC(t)
	cfg := config(s)
	cfg.Attributes.Login = "employeeID"
	cfg.Attributes.DisplayName = "sn"
	cfg.Attributes.GivenName = "displayName"
	cfg.Attributes.Surname = "givenName"
	d := open(t, cfg)
	j := testserver.SambaJDoe
	u := find(t, d, directory.ByLogin, j.EmployeeID)
	if u.ID != j.DN || u.Login != j.EmployeeID {
		t.Fatalf("Find(login %s) = %s login %q; want %s login %q", j.EmployeeID, u.ID, u.Login, j.DN, j.EmployeeID)
	}
	if u.DisplayName != j.Surname || u.GivenName != j.DisplayName || u.Surname != j.GivenName {
		t.Errorf("names = %q/%q/%q; want them read from the mapped attributes", u.DisplayName, u.GivenName, u.Surname)
	}
	// Under the default login attribute the employee ID is no login.
	if us, err := open(t, config(s)).Find(ctxT(t), directory.ByLogin, j.EmployeeID); err != nil || len(us) != 0 {
		t.Errorf("Find(login %s) with the default login attribute = %+v, %v; want none", j.EmployeeID, us, err)
	}
	// Without the forest's domain (no matching login@domain UPN guess; the
	// configuration requires a domain, so another one stands for none)
	// sAMAccountName is not matched.
	cfg.Domain = "elsewhere.example"
	if us, err := open(t, cfg).Find(ctxT(t), directory.ByLogin, j.Login); err != nil || len(us) != 0 {
		t.Errorf("Find(sAMAccountName %s) with login employeeID = %+v, %v; want none", j.Login, us, err)
	}
	if u := find(t, d, directory.ByLogin, j.UPN); u.ID != j.DN {
		t.Errorf("Find(UPN) = %s", u.ID)
	}
}

// TestSambaUserFilter: user_filter narrows every lookup and the write guard;
// an account it leaves out is not found and cannot be reset.
func TestSambaUserFilter(t *testing.T) {
	s := testserver.SambaDC(t)
	j, a := testserver.SambaJDoe, testserver.SambaASmith
	wide := open(t, config(s))
	jdoe := find(t, wide, directory.ByLogin, j.Login)

	cfg := config(s)
	cfg.UserFilter = "(!(sAMAccountName=" + j.Login + "))"
	d := open(t, cfg)
	if us, err := d.Find(ctxT(t), directory.ByLogin, j.Login); err != nil || len(us) != 0 {
		t.Fatalf("Find(%s) outside user_filter = %+v, %v; want none", j.Login, us, err)
	}
	if u := find(t, d, directory.ByLogin, a.Login); u.ID != a.DN {
		t.Fatalf("Find(%s) = %s; want %s", a.Login, u.ID, a.DN)
	}
	if _, err := d.Status(ctxT(t), jdoe); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Status of an account outside user_filter: %v; want ErrNotFound", err)
	}
	if err := d.Unlock(ctxT(t), jdoe); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Unlock of an account outside user_filter: %v; want ErrNotFound", err)
	}
	// A filter cannot widen the person restriction: a computer stays out.
	cfg.UserFilter = "(objectClass=user)"
	d = open(t, cfg)
	if us, err := d.Find(ctxT(t), directory.ByLogin, testserver.SambaComputerLogin); err != nil || len(us) != 0 {
		t.Errorf("Find(computer) with user_filter (objectClass=user) = %+v, %v; want none", us, err)
	}
}
