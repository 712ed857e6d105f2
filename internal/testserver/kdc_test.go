package testserver_test

import (
	"testing"

	"github.com/resetbot/resetbot/internal/testserver"
)

func TestKDCStartsWithFixturePrincipals(t *testing.T) {
	s := testserver.KDC(t)
	u := testserver.KDCUsers[0]
	if err := s.Kinit(u.Name, u.Password); err != nil {
		t.Fatal(err)
	}
	if err := s.Kinit(u.Name, "wrong-"+u.Password); err == nil {
		t.Fatal("kinit with a wrong password succeeded")
	}
	s.Stop()
	if err := s.Kinit(u.Name, u.Password); err == nil {
		t.Fatal("kinit succeeded with the KDC stopped")
	}
	s.Restart(t)
	if err := s.Kinit(u.Name, u.Password); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
