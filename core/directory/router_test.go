package directory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/directorytest"
	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/secret"
)

func acct(id, login, email, mobile, pw string) memory.Account {
	return memory.Account{
		User:     directory.User{ID: id, Login: login, Email: email, Mobile: mobile},
		Password: secret.New(pw),
	}
}

// twoDirs returns a router over corp and labs; "alice" exists in both.
func twoDirs(t *testing.T) (*directory.Router, *memory.Directory, *memory.Directory) {
	t.Helper()
	corp := memory.New(
		acct("corp-alice", "alice", "alice@corp.example", "+15555550111", "Corp-Alice-Pw-1"),
		acct("corp-carol", "carol", "carol@eu.corp.example", "+15555550199", "Corp-Carol-Pw-1"),
	)
	labs := memory.New(
		acct("labs-alice", "alice", "alice@labs.example", "+15555550122", "Labs-Alice-Pw-1"),
		acct("labs-bob", "bob", "bob@labs.example", "+15555550199", "Labs-Bob-Pw-1"),
	)
	r, err := directory.NewRouter(
		directory.Route{Name: "corp", Dir: corp, Domains: []string{"corp.example", "CORP"}},
		directory.Route{Name: "labs", Dir: labs, Domains: []string{"labs.example", "labs"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return r, corp, labs
}

func TestRouterFind(t *testing.T) {
	r, _, _ := twoDirs(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		key   directory.Key
		value string
		want  []string // "dir/id"
	}{
		{"bare login asks all", directory.ByLogin, "alice", []string{"corp/corp-alice", "labs/labs-alice"}},
		{"upn routes", directory.ByLogin, "alice@corp.example", []string{"corp/corp-alice"}},
		{"upn case-insensitive", directory.ByLogin, "ALICE@LABS.EXAMPLE", []string{"labs/labs-alice"}},
		{"netbios routes", directory.ByLogin, `CORP\alice`, []string{"corp/corp-alice"}},
		{"netbios lower", directory.ByLogin, `labs\alice`, []string{"labs/labs-alice"}},
		{"unknown domain asks all", directory.ByLogin, "alice@else.example", nil},
		{"email routes", directory.ByEmail, "bob@labs.example", []string{"labs/labs-bob"}},
		{"email subdomain", directory.ByEmail, "carol@eu.corp.example", []string{"corp/corp-carol"}},
		{"email wrong directory", directory.ByEmail, "bob@corp.example", nil},
		{"phone shared across directories", directory.ByPhone, "+15555550199", []string{"corp/corp-carol", "labs/labs-bob"}},
		{"not found", directory.ByPhone, "+15555550000", nil},
		{"injection", directory.ByLogin, `*)(uid=*@corp.example`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, err := r.Find(ctx, tc.key, tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if users == nil {
				t.Fatal("Find returned a nil slice")
			}
			var got []string
			for _, u := range users {
				got = append(got, u.Directory+"/"+u.ID)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestRouterRoutesWrites(t *testing.T) {
	r, corp, labs := twoDirs(t)
	ctx := context.Background()
	users, err := r.Find(ctx, directory.ByLogin, "alice@labs.example")
	if err != nil || len(users) != 1 {
		t.Fatalf("Find = %v, %v", users, err)
	}
	u := users[0]
	newPw := secret.New("Labs-New-Passw0rd")
	if err := r.ResetPassword(ctx, u, newPw, directory.ResetOptions{MustChange: true}); err != nil {
		t.Fatal(err)
	}
	if !labs.Bind(ctx, "alice", newPw) || !labs.MustChange("labs-alice") {
		t.Error("labs alice was not reset")
	}
	if !corp.Bind(ctx, "alice", secret.New("Corp-Alice-Pw-1")) {
		t.Error("corp alice changed")
	}
	labs.Lock("labs-alice")
	if st, err := r.Status(ctx, u); err != nil || !st.Locked {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if err := r.Unlock(ctx, u); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.Status(ctx, u); st.Locked {
		t.Error("still locked")
	}
	err = r.ResetPassword(ctx, u, secret.New("short"), directory.ResetOptions{})
	var re *directory.RefusedError
	if !errors.As(err, &re) || re.Reason != directory.ReasonTooShort {
		t.Errorf("short reset = %v, want RefusedError too_short", err)
	}
	for _, bad := range []directory.User{{ID: "labs-alice", Directory: "gone"}, {ID: "labs-alice"}} {
		if _, err := r.Status(ctx, bad); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("Status(%+v) = %v, want ErrNotFound", bad, err)
		}
		if err := r.Unlock(ctx, bad); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("Unlock(%+v) = %v, want ErrNotFound", bad, err)
		}
		if err := r.ResetPassword(ctx, bad, newPw, directory.ResetOptions{}); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("ResetPassword(%+v) = %v, want ErrNotFound", bad, err)
		}
	}
}

func TestNewRouterValidates(t *testing.T) {
	m := memory.New()
	for _, tc := range []struct {
		name   string
		routes []directory.Route
	}{
		{"none", nil},
		{"no name", []directory.Route{{Dir: m}}},
		{"no backend", []directory.Route{{Name: "a"}}},
		{"duplicate name", []directory.Route{{Name: "a", Dir: m}, {Name: "a", Dir: m}}},
		{"duplicate domain", []directory.Route{{Name: "a", Dir: m, Domains: []string{"x.example"}}, {Name: "b", Dir: m, Domains: []string{"X.example"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := directory.NewRouter(tc.routes...); err == nil {
				t.Fatal("NewRouter accepted a bad configuration")
			}
		})
	}
}

// broken is a directory whose server is down.
type broken struct{ directory.Directory }

func (broken) Find(context.Context, directory.Key, string) ([]directory.User, error) {
	return nil, directory.ErrUnavailable
}
func (broken) Check(context.Context) error { return directory.ErrUnavailable }
func (broken) Close() error                { return errors.New("close failed") }

func TestRouterFailures(t *testing.T) {
	ok := memory.New(acct("a", "alice", "alice@ok.example", "", "Alice-Passw0rd"))
	r, err := directory.NewRouter(
		directory.Route{Name: "ok", Dir: ok, Domains: []string{"ok.example"}},
		directory.Route{Name: "down", Dir: broken{}, Domains: []string{"down.example"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// A routed lookup does not touch the broken directory.
	if users, err := r.Find(ctx, directory.ByEmail, "alice@ok.example"); err != nil || len(users) != 1 {
		t.Fatalf("routed Find = %v, %v", users, err)
	}
	// Asking all fails rather than hiding a possible duplicate.
	if _, err := r.Find(ctx, directory.ByLogin, "alice"); !errors.Is(err, directory.ErrUnavailable) {
		t.Fatalf("Find across a broken directory = %v, want ErrUnavailable", err)
	}
	if err := r.Check(ctx); !errors.Is(err, directory.ErrUnavailable) {
		t.Fatalf("Check = %v", err)
	}
	if err := r.Close(); err == nil {
		t.Fatal("Close hid a failure")
	}
}

// TestRouterConformance runs the suite through a router with one directory.
func TestRouterConformance(t *testing.T) {
	directorytest.Run(t, directorytest.Harness{
		Reasons: []directory.Reason{directory.ReasonTooShort, directory.ReasonHistory},
		New: func(t *testing.T) *directorytest.Instance {
			accts := memory.DemoAccounts()
			m := memory.New(accts...)
			r, err := directory.NewRouter(directory.Route{Name: "demo", Dir: m, Domains: []string{memory.DemoDomain}})
			if err != nil {
				t.Fatal(err)
			}
			fx := func(a memory.Account) directorytest.Account {
				return directorytest.Account{Login: a.Login, Email: a.Email, Phone: a.Mobile,
					EmployeeNumber: a.EmployeeNumber, Password: a.Password}
			}
			return &directorytest.Instance{
				Dir: r,
				Fixtures: directorytest.Fixtures{
					Normal: fx(accts[0]), Other: fx(accts[1]), Locked: fx(accts[2]),
					Disabled: fx(accts[3]), Protected: fx(accts[4]),
				},
				Bind: func(ctx context.Context, login string, pw secret.String) (bool, error) {
					return m.Bind(ctx, login, pw), nil
				},
				SetLocked: func(_ context.Context, u directory.User) error { m.Lock(u.ID); return nil },
				SetHeld: func(_ context.Context, u directory.User) (directory.Hold, error) {
					m.AdminLock(u.ID)
					return directory.HoldAdminLocked, nil
				},
				MustChange: func(_ context.Context, u directory.User) (bool, error) { return m.MustChange(u.ID), nil },
			}
		},
	})
}
