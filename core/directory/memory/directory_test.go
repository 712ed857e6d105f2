package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/directorytest"
	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/secret"
)

func fixtures() ([]memory.Account, directorytest.Fixtures) {
	accts := memory.DemoAccounts()
	// Two extra accounts share an employee number.
	for _, l := range []string{"gshared", "hshared"} {
		accts = append(accts, memory.Account{
			User:     directory.User{Login: l, Email: l + "@demo.example", EmployeeNumber: "20000"},
			Password: secret.New("Shared-Passw0rd-" + l),
		})
	}
	young := memory.Account{
		User:              directory.User{Login: "iyoung", Email: "iyoung@demo.example"},
		Password:          secret.New("Young-Passw0rd-1"),
		PasswordChangedAt: time.Now(),
		MinAge:            time.Hour,
	}
	accts = append(accts, young)
	expired := memory.Account{
		User:     directory.User{Login: "jexpired", Email: "jexpired@demo.example"},
		Password: secret.New("Expired-Passw0rd-1"), Expired: true,
	}
	held := memory.Account{
		User:     directory.User{Login: "kheld", Email: "kheld@demo.example"},
		Password: secret.New("Held-Passw0rd-1"), AdminLocked: true,
	}
	accts = append(accts, expired, held)
	acc := func(a memory.Account) directorytest.Account {
		return directorytest.Account{Login: a.Login, Email: a.Email, Phone: a.Mobile,
			EmployeeNumber: a.EmployeeNumber, Password: a.Password}
	}
	return accts, directorytest.Fixtures{
		Normal:               acc(accts[0]),
		Other:                acc(accts[1]),
		Locked:               acc(accts[2]),
		Disabled:             acc(accts[3]),
		Protected:            acc(accts[4]),
		TooYoung:             acc(young),
		Expired:              acc(expired),
		AdminLocked:          acc(held),
		SharedEmployeeNumber: "20000",
		MissingID:            "uid=ghost,ou=people,dc=demo,dc=example",
	}
}

func TestConformance(t *testing.T) {
	directorytest.Run(t, directorytest.Harness{
		Reasons: []directory.Reason{directory.ReasonTooShort, directory.ReasonHistory, directory.ReasonTooYoung},
		New: func(t *testing.T) *directorytest.Instance {
			accts, fx := fixtures()
			d := memory.New(accts...)
			return &directorytest.Instance{
				Dir:      d,
				Fixtures: fx,
				Bind: func(ctx context.Context, login string, pw secret.String) (bool, error) {
					return d.Bind(ctx, login, pw), nil
				},
				SetLocked: func(_ context.Context, u directory.User) error { d.Lock(u.ID); return nil },
				SetHeld: func(_ context.Context, u directory.User) (directory.Hold, error) {
					d.AdminLock(u.ID)
					return directory.HoldAdminLocked, nil
				},
				MustChange: func(_ context.Context, u directory.User) (bool, error) {
					return d.MustChange(u.ID), nil
				},
				SetMaxPasswordAge: func(_ context.Context, maxAge time.Duration) error {
					d.SetMaxAge(maxAge)
					return nil
				},
			}
		},
	})
}

func TestNewDemoNeedsAck(t *testing.T) {
	if _, err := memory.NewDemo(""); !errors.Is(err, memory.ErrNotAcknowledged) {
		t.Fatalf("NewDemo(\"\") = %v, want ErrNotAcknowledged", err)
	}
	if _, err := memory.NewDemo("yes"); !errors.Is(err, memory.ErrNotAcknowledged) {
		t.Fatalf("NewDemo(yes) = %v, want ErrNotAcknowledged", err)
	}
	d, err := memory.NewDemo(memory.AckDemoOnly)
	if err != nil {
		t.Fatal(err)
	}
	users, err := d.Find(context.Background(), directory.ByEmail, "alice.martin@demo.example")
	if err != nil || len(users) != 1 || users[0].Mobile != "+15555550101" {
		t.Fatalf("demo lookup = %+v, %v", users, err)
	}
}

func TestMinAgeAndLockExpiry(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	d := memory.New(memory.Account{
		User:        directory.User{ID: "u1", Login: "u1"},
		Password:    secret.New("Initial-Passw0rd"),
		Locked:      true,
		LockedUntil: now.Add(30 * time.Minute),
	})
	d.SetClock(func() time.Time { return now })
	d.SetPolicy(memory.Policy{MinLength: 8, History: 3, MinAge: 24 * time.Hour})
	u := directory.User{ID: "u1"}

	st, _ := d.Status(ctx, u)
	if !st.Locked || !st.LockedUntil.Equal(now.Add(30*time.Minute)) {
		t.Fatalf("status = %+v, want locked for 30 min", st)
	}
	if err := d.ResetPassword(ctx, u, secret.New("Second-Passw0rd"), directory.ResetOptions{}); err != nil {
		t.Fatal(err)
	}
	err := d.ResetPassword(ctx, u, secret.New("Third-Passw0rd"), directory.ResetOptions{})
	var re *directory.RefusedError
	if !errors.As(err, &re) || re.Reason != directory.ReasonTooYoung {
		t.Fatalf("second reset within min age = %v, want too_young", err)
	}
	if st, _ := d.Status(ctx, u); !st.PasswordChangeableAt.Equal(now.Add(24 * time.Hour)) {
		t.Fatalf("PasswordChangeableAt = %v", st.PasswordChangeableAt)
	}
	now = now.Add(25 * time.Hour)
	st, _ = d.Status(ctx, u)
	if st.Locked || !st.PasswordChangeableAt.IsZero() {
		t.Fatalf("status a day later = %+v, want unlocked and changeable", st)
	}
	if err := d.ResetPassword(ctx, u, secret.New("Third-Passw0rd"), directory.ResetOptions{}); err != nil {
		t.Fatal(err)
	}
	// History of 3: the initial password is still remembered.
	now = now.Add(25 * time.Hour)
	err = d.ResetPassword(ctx, u, secret.New("Initial-Passw0rd"), directory.ResetOptions{})
	if !errors.As(err, &re) || re.Reason != directory.ReasonHistory {
		t.Fatalf("reuse = %v, want history", err)
	}
}
