package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/resetbot/resetbot/core/fanout/webhook"
	"github.com/resetbot/resetbot/internal/testserver"
)

// fanoutYAML is a fan-out section: a second slapd mapped by email, a sealed
// webhook, then (when kdc is set) a Kerberos realm.
func fanoutYAML(lab *testserver.SlapdServer, hookURL, recipient string, kdc ...*testserver.KDCServer) string {
	krb := ""
	for _, k := range kdc {
		krb = fmt.Sprintf(`    - name: vpn
      type: kerberos
      label: VPN (Kerberos)
      directory: openldap
      constraints: {ascii_only: true}
      kerberos:
        realm: %s
        admin_server: %s
        principal: %s
        keytab: %s
        krb5_conf: %s
`, testserver.KDCRealm, k.AdminServer, testserver.KDCAdmin, k.Keytab, k.Krb5Conf)
	}
	return fmt.Sprintf(`fanout:
  window: 2m
  targets:
    - name: lab
      type: ldap
      label: the lab directory
      directory: openldap
      timeout: 5s
      ldap:
        match: email
        url: %s
        ca_file: %s
        bind_dn: %s
        bind_password: %s
        base_dn: %s
        dial_timeout: 1s
        request_timeout: 3s
    - name: hr
      type: webhook
      label: the HR system
      directory: openldap
      webhook:
        url: %s
        recipient: %s
        secret: 0123456789abcdef0123456789abcdef-e2e
        allow_loopback_http: true
`, lab.LDAPSURL, lab.CAFile, testserver.SlapdBotDN, testserver.SlapdBotPW, testserver.SlapdPeopleDN, hookURL, recipient) + krb
}

// TestResetFansOutToSlapdWebhookAndKerberos runs a chat reset through the
// built app: the primary slapd, a second slapd, the webhook receiver and an
// MIT KDC all end up with the new password (bind, decrypt, kinit), the
// person is told so, and no log or audit line holds it.
func TestResetFansOutToSlapdWebhookAndKerberos(t *testing.T) {
	lab := testserver.Slapd(t)
	kdc := testserver.KDC(t)
	id, _ := age.GenerateX25519Identity()
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b webhook.Body
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if json.Unmarshal(raw, &b) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		pw, err := webhook.Open(b, id)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, b.Login+"="+pw.Reveal())
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	r, primary := slapdRig(t, func(e *env) { e.Extra = fanoutYAML(lab, hook.URL, id.Recipient().String(), kdc) })

	const pw = "Harbor-Maple-Fanout-51"
	rep := r.chatReset("F1", slapdAlice.Login, pw)
	r.expect(rep, "done", "fanout.done")
	for name, s := range map[string]*testserver.SlapdServer{"primary": primary, "lab": lab} {
		if err := slapdBind(t, s, slapdAlice.DN(), pw); err != nil {
			t.Errorf("%s: bind with the new password: %v", name, err)
		}
	}
	if err := kdc.Kinit(slapdAlice.Login, pw); err != nil {
		t.Errorf("kinit with the new password: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != slapdAlice.Login+"="+pw {
		t.Fatalf("webhook receiver got %d passwords", len(got))
	}
	for _, e := range r.rec.Find("fanout.push") {
		t.Logf("fan-out %s: %s in %sms", e.Fields["target"], e.Outcome, e.Fields["latency_ms"])
	}
	if len(r.rec.Find("fanout.push")) != 3 {
		t.Fatalf("audit: %v", r.rec.Names())
	}
	r.assertNoLeaks()
}

// TestFanoutTargetDownIsToldAsPending: with the second directory down the
// primary still changes and the person is told it will follow.
func TestFanoutTargetDownIsToldAsPending(t *testing.T) {
	lab := testserver.Slapd(t)
	id, _ := age.GenerateX25519Identity()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer hook.Close()
	r, primary := slapdRig(t, func(e *env) { e.Extra = fanoutYAML(lab, hook.URL, id.Recipient().String()) })
	lab.Stop()
	const pw = "Harbor-Maple-Pending-52"
	rep := r.chatReset("F2", slapdAlice.Login, pw)
	r.expect(rep, "done", "fanout.pending")
	if !hasOutput(rep, "fanout.done") {
		t.Fatalf("the webhook's success was not told: %v", ids(rep))
	}
	if err := slapdBind(t, primary, slapdAlice.DN(), pw); err != nil {
		t.Fatalf("primary rolled back? %v", err)
	}
	r.assertNoLeaks()
}

// TestFanoutGivenUpIsEscalatedAndTheOwnerTold: the second directory stays
// down for the whole window; the worker gives up once, the help desk gets
// the packet and the owner a notice naming the system, with no secret.
func TestFanoutGivenUpIsEscalatedAndTheOwnerTold(t *testing.T) {
	lab := testserver.Slapd(t)
	id, _ := age.GenerateX25519Identity()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer hook.Close()
	y := strings.Replace(fanoutYAML(lab, hook.URL, id.Recipient().String()), "window: 2m", "window: 1s", 1)
	r, _ := slapdRig(t, func(e *env) { e.Extra = y })
	lab.Stop()
	const pw = "Harbor-Maple-GivenUp-53"
	r.expect(r.chatReset("F3", slapdAlice.Login, pw), "done", "fanout.pending")
	deadline := time.Now().Add(20 * time.Second) // the worker sweeps every 5s
	for len(r.rec.Find("fanout.failed")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(r.rec.Find("fanout.failed")); n != 1 {
		t.Fatalf("%d fanout.failed events", n)
	}
	if len(r.rec.Find("escalation.sent")) == 0 {
		t.Errorf("no escalation: %v", r.rec.Names())
	}
	told := 0
	for _, m := range r.a.Outbox.Messages() {
		if m.Message.Summary == "notice.fanout_failed" && strings.Contains(m.Message.Body.Reveal(), "the lab directory") {
			told++
		}
	}
	if told == 0 {
		t.Fatal("owner not told")
	}
	r.assertNoLeaks()
}
