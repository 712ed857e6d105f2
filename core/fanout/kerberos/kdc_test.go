package kerberos_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/fanout"
	"github.com/resetbot/resetbot/core/fanout/kerberos"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/testserver"
)

func target(t *testing.T, s *testserver.KDCServer) fanout.Target {
	t.Helper()
	tg, err := kerberos.Config{Name: "vpn", Label: "VPN (Kerberos)", Realm: testserver.KDCRealm, AdminServer: s.AdminServer,
		Principal: testserver.KDCAdmin, Keytab: s.Keytab, Krb5Conf: s.Krb5Conf}.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func push(tg fanout.Target, login, pw string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err := tg.Push(ctx, fanout.Request{Ref: "REF-KRB", User: directory.User{Login: login}, Password: secret.New(pw)})
	return time.Since(start), err
}

func TestKinitSucceedsWithTheNewPassword(t *testing.T) {
	s := testserver.KDC(t)
	tg := target(t, s)
	u := testserver.KDCUsers[0]
	const pw = "Kerberos-Fanout-Pw-71"
	lat, err := push(tg, u.Name, pw)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kadmin cpw took %s", lat)
	if err := s.Kinit(u.Name, pw); err != nil {
		t.Fatalf("kinit with the new password: %v", err)
	}
	if err := s.Kinit(u.Name, u.Password); err == nil {
		t.Fatal("the old password still works")
	}
}

func TestRealmRefusalsArePermanentOutagesAreNot(t *testing.T) {
	s := testserver.KDC(t)
	tg := target(t, s)
	u := testserver.KDCUsers[1]
	for name, tc := range map[string]struct{ login, pw string }{
		"too short (policy)": {u.Name, "Short-1"},
		"history":            {u.Name, u.Password},
		"no such principal":  {"nobody", "Nobody-Krb-Passw0rd-1"},
		"injection":          {"bob -pw x alice", "Inject-Krb-Passw0rd-1"},
	} {
		_, err := push(tg, tc.login, tc.pw)
		if !errors.Is(err, fanout.ErrPermanent) {
			t.Errorf("%s: %v, want permanent", name, err)
		}
		if err != nil && strings.Contains(err.Error(), tc.pw) {
			t.Fatalf("%s: password in the error", name)
		}
	}
	if err := s.Kinit(u.Name, u.Password); err != nil {
		t.Fatalf("bob's password changed by a refused push: %v", err)
	}
	s.Stop()
	if lat, err := push(tg, u.Name, "While-Down-Krb-Pw-2"); err == nil || errors.Is(err, fanout.ErrPermanent) {
		t.Fatalf("kadmind down: %v, want a retryable error", err)
	} else {
		t.Logf("kadmind down: failed in %s", lat)
	}
	s.Restart(t)
	if _, err := push(tg, u.Name, "After-Restart-Krb-Pw-3"); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if err := s.Kinit(u.Name, "After-Restart-Krb-Pw-3"); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	err := kerberos.Config{Realm: "lower.case", AdminServer: "", Principal: "", Keytab: "/nonexistent"}.Validate()
	for _, want := range []string{"realm", "admin_server", "principal", "keytab"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not mention %s: %v", want, err)
		}
	}
}
