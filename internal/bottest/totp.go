package bottest

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
)

// Methods is the part of the app's factor registry EnrollTOTP needs.
type Methods interface {
	Enroller() (identity.Method, identity.Enroller, bool)
}

// EnrollTOTP binds an authenticator for login through the factor registry
// (what a finished enrollment leaves), confirming it with the code of now,
// and returns its seed. Drivers implement Channel.Authenticator with it and
// then move their clock a minute on, so the confirming code is not reused.
func EnrollTOTP(t testing.TB, dir directory.Directory, m Methods, login string, now time.Time) string {
	t.Helper()
	ctx := context.Background()
	users, err := dir.Find(ctx, directory.ByLogin, login)
	if err != nil || len(users) != 1 {
		t.Fatalf("find %s: %v", login, err)
	}
	u := users[0]
	_, en, ok := m.Enroller()
	if !ok {
		t.Fatal("no enrollable factor")
	}
	sub := identity.Subject{Key: u.Directory + ":" + u.ID, Login: u.Login, Mobile: u.Mobile}
	e, err := en.Begin(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	seed := e.Secret.Reveal()
	code, err := totp.GenerateCode(seed, now)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := en.Confirm(ctx, sub, secret.New(code)); err != nil || res != identity.Verified {
		t.Fatalf("confirm the authenticator: %v %v", res, err)
	}
	return seed
}
