package api_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
)

// fakeLifter records lifts; known lists the users that name an account.
type fakeLifter struct {
	mu    sync.Mutex
	known map[string]bool
	calls []string // user|actor|channel
	fail  bool
}

func (f *fakeLifter) Lift(_ context.Context, user, actor, channel string, inScope func(string) bool) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return false, io.ErrUnexpectedEOF
	}
	f.calls = append(f.calls, user+"|"+actor+"|"+channel)
	// The API passes the key's scope; known users carry their DN as the user.
	if inScope == nil {
		panic("the API must pass the key's scope")
	}
	return f.known[user] && inScope("uid="+user+",ou=people,dc=example,dc=org"), nil
}

func TestLift(t *testing.T) {
	e := newEnv(t, 60)
	lift := func(key, ctype, body string) (int, string) {
		w := e.do(t, req{method: "POST", path: "/api/v1/lifts", key: e.keys[key], ctype: ctype, body: body})
		return w.Code, w.Body.String()
	}
	// Only the lift scope lifts: a key that starts handoffs cannot undo the
	// throttling that protects accounts.
	if code, _ := lift("itsm", "application/json", `{"user":"amartin"}`); code != http.StatusForbidden {
		t.Fatalf("itsm key: %d, want 403", code)
	}
	known, kb := lift("helpdesk", "application/json", `{"user":"amartin"}`)
	unknown, ub := lift("helpdesk", "application/json", `{"user":"nobody-here"}`)
	if known != http.StatusOK || known != unknown || kb != ub || kb != `{"status":"lifted"}`+"\n" {
		t.Fatalf("known %d %q, unknown %d %q: want the same 200", known, kb, unknown, ub)
	}
	if len(e.lifter.calls) != 2 || e.lifter.calls[0] != "amartin|apikey:helpdesk|api" {
		t.Fatalf("lifts: %v", e.lifter.calls)
	}
	for _, tc := range []struct {
		name, ctype, body string
		want              int
	}{
		{"no user", "application/json", `{}`, http.StatusBadRequest},
		{"unknown field", "application/json", `{"user":"a","all":true}`, http.StatusBadRequest},
		{"two objects", "application/json", `{"user":"a"}{"user":"b"}`, http.StatusBadRequest},
		{"not json", "text/plain", `{"user":"a"}`, http.StatusUnsupportedMediaType},
	} {
		if code, _ := lift("helpdesk", tc.ctype, tc.body); code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.want)
		}
	}
	if len(e.lifter.calls) != 2 {
		t.Fatalf("a refused request lifted: %v", e.lifter.calls)
	}
	e.lifter.fail = true
	if code, _ := lift("helpdesk", "application/json", `{"user":"amartin"}`); code != http.StatusServiceUnavailable {
		t.Fatalf("lifter failure: %d, want 503", code)
	}
}
