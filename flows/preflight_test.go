package flows_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/flows"
)

const chiara = "uid=crossi,ou=people,dc=demo,dc=example"

// oneFactor lets a reset go through on one factor, so these tests do not
// depend on which factors the policy pairs.
func oneFactor(d *flows.Deps) {
	d.Policy.Require[flows.FlowReset] = flows.Requirement{Default: 1}
	d.Policy.PhoneAlone = true // a single phone code, so these tests stay about pre-flight
}

// verified starts flow for login on Slack as user and passes one SMS code.
func verified(h *harness, user, flow, login string) engine.Reply {
	h.send("slack", user, start(flow))
	h.send("slack", user, text(login))
	h.send("slack", user, choice("sms"))
	return h.send("slack", user, text(h.code()))
}

func said(h *harness, id string) bool { return strings.Contains(strings.Join(h.lines, "\n"), id) }

func status(t *testing.T, h *harness, id string) directory.Status {
	t.Helper()
	st, err := h.dir.Status(context.Background(), directory.User{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestAdminLockSurvivesSelfService: an account an administrator locked is
// named as such at pre-flight, neither reset nor unlocked, and the person
// is sent to the help desk.
func TestAdminLockSurvivesSelfService(t *testing.T) {
	for _, flow := range []string{flows.FlowReset, flows.FlowUnlock} {
		t.Run(flow, func(t *testing.T) {
			h := newHarness(t, oneFactor)
			h.dir.AdminLock(chiara)
			r := verified(h, "U7", flow, "crossi")
			if r.State != "blocked" || !said(h, "preflight.admin_locked") || !said(h, "preflight.next_steps") {
				t.Fatalf("state %s; want blocked with preflight.admin_locked", r.State)
			}
			if st := status(t, h, chiara); !st.AdminLocked || !st.Locked {
				t.Fatalf("status after the flow = %+v; the administrator's lock must stay", st)
			}
			if h.dir.Bind(context.Background(), "crossi", secret.New("Amber-Meadow-19")) {
				t.Fatal("the account binds")
			}
		})
	}
}

// TestHeldAfterPreflight: an administrator locks the account between the
// pre-flight and the new password; the reset is refused and escalated.
func TestHeldAfterPreflight(t *testing.T) {
	h := newHarness(t, oneFactor)
	if r := verified(h, "U8", flows.FlowReset, "amartin"); r.State != "new_password" {
		t.Fatalf("state %s", r.State)
	}
	h.dir.AdminLock(alice)
	const pw = "Lantern-Violet-Ocean-Seven"
	r := h.send("slack", "U8", masked(pw, pw))
	if r.State != "escalated" || !said(h, "preflight.admin_locked") {
		t.Fatalf("state %s; want escalated with preflight.admin_locked", r.State)
	}
	if st := status(t, h, alice); !st.AdminLocked {
		t.Fatalf("status = %+v", st)
	}
	h.secrets = append(h.secrets, pw)
	h.assertNoLeaks()
}

// TestResetUnlockRereadsStatus: the account was not locked at pre-flight but
// is locked when the password is set (failed logons meanwhile); the unlock
// after the reset sees the current status.
func TestResetUnlockRereadsStatus(t *testing.T) {
	st := storemem.New()
	h := newHarnessOn(t, st, oneFactor, func(d *flows.Deps) { d.Counters = st })
	if r := verified(h, "U9", flows.FlowReset, "amartin"); r.State != "new_password" {
		t.Fatalf("state %s", r.State)
	}
	h.dir.Lock(alice)
	const pw = "Lantern-Violet-Ocean-Seven"
	if r := h.send("slack", "U9", masked(pw, pw)); r.State != "done" {
		t.Fatalf("state %s", r.State)
	}
	if s := status(t, h, alice); s.Locked {
		t.Fatalf("still locked after the reset: %+v", s)
	}
	if !h.dir.Bind(context.Background(), "amartin", secret.New(pw)) {
		t.Fatal("new password does not bind")
	}
	if n := len(h.rec.Find("unlock.done")); n != 1 {
		t.Fatalf("%d unlock.done audit events, want 1", n)
	}
	h.secrets = append(h.secrets, pw)
	h.assertNoLeaks()
}

// TestResetUnlockCountsTowardCap: three unlocks in a day use up the cap; a
// reset then changes the password but leaves the lock, says so, and points
// to the help desk.
func TestResetUnlockCountsTowardCap(t *testing.T) {
	st := storemem.New()
	h := newHarnessOn(t, st, oneFactor, func(d *flows.Deps) { d.Counters = st })
	for i := range 3 {
		h.dir.Lock(chiara)
		h.send("slack", "U6"+strconv.Itoa(i), start(flows.FlowUnlock))
		h.send("slack", "U6"+strconv.Itoa(i), text("crossi"))
		h.send("slack", "U6"+strconv.Itoa(i), choice([]string{"sms", "email", "voice"}[i]))
		if r := h.send("slack", "U6"+strconv.Itoa(i), text(h.code())); r.State != "done" {
			t.Fatalf("unlock %d: %s", i+1, r.State)
		}
	}
	h.dir.Lock(chiara)
	h.send("slack", "U69", start(flows.FlowReset))
	h.send("slack", "U69", text("crossi"))
	h.send("slack", "U69", choice("sms")) // the strongest factor of record
	if r := h.send("slack", "U69", text(h.code())); r.State != "new_password" {
		t.Fatalf("state %s", r.State)
	}
	const pw = "Lantern-Violet-Ocean-Seven"
	r := h.send("slack", "U69", masked(pw, pw))
	if r.State != "done" || !said(h, "reset.still_locked") {
		t.Fatalf("state %s; want done with reset.still_locked", r.State)
	}
	if s := status(t, h, chiara); !s.Locked {
		t.Fatal("the reset lifted a fourth lock in a day")
	}
	h.secrets = append(h.secrets, pw)
	h.assertNoLeaks()
}
