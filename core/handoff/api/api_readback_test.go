package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/secret"
)

// TestReadbackAPI: the ITSM enters what the caller read back; only the key
// that created the verify handoff may, and only the number shown verifies.
func TestReadbackAPI(t *testing.T) {
	e := newEnv(t, 60)
	code, out := e.create(t, "itsm", `{"user":"amartin","action":"verify","channel":"slack"}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	id := out["id"].(string)
	e.starter.mu.Lock()
	e.starter.codes = append(e.starter.codes, "730415") // the number is a secret too
	e.starter.mu.Unlock()
	if err := e.store.AwaitReadback(context.Background(), id, secret.New("730415")); err != nil {
		t.Fatal(err)
	}
	post := func(key, body string) (int, map[string]any) {
		w := e.do(t, req{method: "POST", path: "/api/v1/handoffs/" + id + "/readback", key: e.keys[key],
			ctype: "application/json", body: body})
		var m map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &m)
		return w.Code, m
	}
	if c, _ := post("other", `{"phrase":"730415"}`); c != http.StatusNotFound {
		t.Fatalf("another key: %d", c)
	}
	if c, _ := post("readonly", `{"phrase":"730415"}`); c != http.StatusForbidden {
		t.Fatalf("read-only key: %d", c)
	}
	if c, _ := post("itsm", `{"phrase":"730415","extra":1}`); c != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", c)
	}
	if c, m := post("itsm", `{"phrase":"111 111"}`); c != http.StatusOK || m["result"] != "wrong" || m["status"] != "started" {
		t.Fatalf("wrong number: %d %v", c, m)
	}
	if c, m := post("itsm", `{"phrase":"730 415"}`); c != http.StatusOK || m["result"] != "verified" || m["status"] != string(handoff.StatusDone) {
		t.Fatalf("read-back: %d %v", c, m)
	}
	if c, _ := post("itsm", `{"phrase":"730415"}`); c != http.StatusConflict {
		t.Fatalf("after the end: %d", c)
	}
}
