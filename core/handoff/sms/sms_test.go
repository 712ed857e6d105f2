package sms_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/sms"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/core/secret"
)

const testCode = "48213957"

// accounts knows one account by login and by e-mail, and records the keys
// it was asked by.
type accounts struct {
	user directory.User
	keys []directory.Key
}

func (a *accounts) Find(_ context.Context, key directory.Key, value string) ([]directory.User, error) {
	a.keys = append(a.keys, key)
	if (key == directory.ByLogin && value == a.user.Login) || (key == directory.ByEmail && value == a.user.Email) {
		return []directory.User{a.user}, nil
	}
	return nil, nil
}

type codes struct{ issued []string }

func (c *codes) IssueCode(_ context.Context, id string) (secret.String, time.Time, error) {
	c.issued = append(c.issued, id)
	return secret.New(testCode), time.Time{}, nil
}

type outbox struct{ sent []notify.Message }

func (o *outbox) Send(_ context.Context, m notify.Message) error {
	o.sent = append(o.sent, m)
	return nil
}

type budget struct {
	allow bool
	dests []string
}

func (b *budget) AllowSend(_ context.Context, dest, _ string) (regulation.Decision, error) {
	b.dests = append(b.dests, dest)
	return regulation.Decision{Allowed: b.allow, Reason: "test"}, nil
}

type renderer struct{}

func (renderer) Text(_, id string, _ bool, args map[string]string) string {
	return id + " code=" + args["code"] + " call=" + args["number"]
}

type rig struct {
	acc *accounts
	cod *codes
	box *outbox
	bud *budget
	s   *sms.Starter
}

func newRig(mobile string, allow bool) *rig {
	r := &rig{acc: &accounts{user: directory.User{ID: "u1", Directory: "corp", Login: "amartin",
		Email: "alice.martin@corp.example", Mobile: mobile}}, cod: &codes{}, box: &outbox{}, bud: &budget{allow: allow}}
	r.s = &sms.Starter{Codes: r.cod, Sender: r.box, Accounts: r.acc, Messages: renderer{}, Budget: r.bud, Number: "+15550100199"}
	return r
}

// TestStartTextsTheMobileOfRecord: the code and the line's number go to the
// account's mobile of record, found by login or by e-mail, within the send
// budget of that number.
func TestStartTextsTheMobileOfRecord(t *testing.T) {
	for _, user := range []string{"amartin", "alice.martin@corp.example"} {
		r := newRig("+15550100101", true)
		if err := r.s.Start(context.Background(), handoff.Handoff{ID: "h1", User: user, Channel: handoff.ChannelSMS}); err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		if len(r.box.sent) != 1 || len(r.cod.issued) != 1 || r.cod.issued[0] != "h1" {
			t.Fatalf("%s: sent %d, issued %v", user, len(r.box.sent), r.cod.issued)
		}
		m := r.box.sent[0]
		body := m.Body.Reveal()
		if m.To != "+15550100101" || m.Kind != notify.KindCode || m.Summary != sms.MessageID ||
			!strings.Contains(body, testCode) || !strings.Contains(body, "+15550100199") {
			t.Errorf("%s: message to %q kind %q summary %q body %q", user, m.To, m.Kind, m.Summary, body)
		}
		if strings.Contains(m.Summary, testCode) {
			t.Errorf("%s: the code is in the summary", user)
		}
		if len(r.bud.dests) != 1 || r.bud.dests[0] != "+15550100101" {
			t.Errorf("%s: budget asked for %v", user, r.bud.dests)
		}
	}
}

// TestStartRefusals: no mobile of record, an unknown user, a spent budget
// and a missing SMS setup issue no code and send nothing.
func TestStartRefusals(t *testing.T) {
	for name, c := range map[string]struct {
		mobile, user string
		allow        bool
		unset        bool
	}{
		"no mobile":    {mobile: "", user: "amartin", allow: true},
		"unknown user": {mobile: "+15550100101", user: "nobody", allow: true},
		"budget spent": {mobile: "+15550100101", user: "amartin", allow: false},
		"no number":    {mobile: "+15550100101", user: "amartin", allow: true, unset: true},
	} {
		r := newRig(c.mobile, c.allow)
		if c.unset {
			r.s.Number = ""
		}
		err := r.s.Start(context.Background(), handoff.Handoff{ID: "h1", User: c.user, Channel: handoff.ChannelSMS})
		if err == nil || len(r.box.sent) != 0 || len(r.cod.issued) != 0 {
			t.Errorf("%s: err %v, sent %d, issued %d", name, err, len(r.box.sent), len(r.cod.issued))
		}
		if c.unset != errors.Is(err, sms.ErrNotConfigured) {
			t.Errorf("%s: ErrNotConfigured = %v, want %v", name, errors.Is(err, sms.ErrNotConfigured), c.unset)
		}
	}
}
