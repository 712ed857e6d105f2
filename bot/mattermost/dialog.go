package mattermost

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/token"
)

// Dialog field names.
const (
	fieldCode     = "code"
	fieldPassword = "password"
	fieldConfirm  = "confirm"
	fieldAnswer   = "answer"
	callbackID    = "resetbot"
	// maxField is Mattermost's longest text element.
	maxField = 150
)

// buildDialog is the masked entry form for a step: intro texts (the prompt,
// when the dialog opens without a button), then one field, or two for a
// new password and its confirmation. Every field has the password subtype,
// so the client masks what is typed. The state is a token bound to the
// user, the DM, the step and an expiry.
func (b *Bot) buildDialog(loc, key, step, kind string, intro []string) dialog {
	field := func(name, label string) element {
		return element{DisplayName: clip(b.text(loc, label, nil), 24), Name: name, Type: "text", SubType: "password",
			MaxLength: maxField}
	}
	d := dialog{CallbackID: callbackID, SubmitLabel: b.text(loc, msgSubmit, nil),
		State: b.sign(purposeDialog, key, step, kind)}
	switch kind {
	case kindCode:
		d.Title = b.text(loc, msgTitleCode, nil)
		d.Elements = []element{field(fieldCode, msgLabelCode)}
		d.Elements[0].MaxLength = 16
	case kindAnswer:
		d.Title = b.text(loc, msgTitleAnswer, nil)
		d.Elements = []element{field(fieldAnswer, "questions.field")}
	default:
		d.Title = b.text(loc, msgTitlePassword, nil)
		d.Elements = []element{field(fieldPassword, "password.field")}
		if kind == kindSecretConfirm {
			d.Elements = append(d.Elements, field(fieldConfirm, msgLabelConfirm))
		}
	}
	var esc []string
	for _, t := range intro {
		esc = append(esc, escape(t))
	}
	d.IntroductionText = strings.Join(esc, "\n\n")
	d.Title = clip(d.Title, 24)
	return d
}

// open opens the dialog for a step with a click's trigger.
func (b *Bot) open(ctx context.Context, trigger, loc, key, step, kind string, intro []string) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := b.api.openDialog(ctx, trigger, b.callback+PathDialog, b.buildDialog(loc, key, step, kind, intro)); err != nil {
		b.log.Warn("mattermost dialog not opened; the DM button opens it", "err", err)
	}
}

// dialogInput turns a submitted dialog into the engine input it stands for.
func dialogInput(values map[string]string, c token.Claims) engine.Input {
	switch c.Value {
	case kindCode:
		code := strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(values[fieldCode]))
		kind := engine.InputText
		if code != "" && strings.Trim(code, "0123456789") == "" {
			kind = engine.InputDigits
		}
		return engine.Input{Kind: kind, Value: secret.New(code), State: c.State}
	case kindAnswer:
		return engine.Input{Kind: engine.InputSecret, Value: secret.New(values[fieldAnswer]), State: c.State}
	}
	// Passwords are passed exactly as typed: no trimming.
	in := engine.Input{Kind: engine.InputSecret, Value: secret.New(values[fieldPassword]), State: c.State}
	if c.Value == kindSecretConfirm {
		in.Confirm = secret.New(values[fieldConfirm])
	}
	return in
}

// errorField is the field a refusal is shown under.
func errorField(kind string) string {
	switch kind {
	case kindCode:
		return fieldCode
	case kindAnswer:
		return fieldAnswer
	}
	return fieldPassword
}

// waiter hands a dialog submission's turn back to its request, when the
// reply refuses what was typed and the request still waits: the refusal is
// then shown inside the dialog instead of in the DM. A nil *waiter (a turn
// not started by a dialog) takes nothing.
type waiter struct {
	mu       sync.Mutex
	gaveUp   bool
	inDialog bool
	reply    *engine.Reply
	loc      string
	done     chan struct{}
	once     sync.Once
}

func newWaiter() *waiter { return &waiter{done: make(chan struct{})} }

// take decides, once the turn ran, whether its reply goes back into the
// dialog: a refusal of the input while the session is still on the
// dialog's step (or a turn that did nothing and must be sent again).
func (w *waiter) take(r engine.Reply, step string) bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gaveUp {
		return false
	}
	w.inDialog = r.Retry || refusesInput(r, step)
	return w.inDialog
}

func refusesInput(r engine.Reply, step string) bool {
	if r.Ended || r.State != engine.StepState(step) {
		return false
	}
	for _, o := range r.Outputs {
		if o.Error {
			return true
		}
	}
	return false
}

func (w *waiter) finish(r *engine.Reply, loc string) {
	if w == nil {
		return
	}
	w.once.Do(func() {
		w.mu.Lock()
		w.reply, w.loc = r, loc
		w.mu.Unlock()
		close(w.done)
	})
}

// wait waits for the turn up to d. ok is false when it did not finish in
// time; the turn then shows its reply in the DM itself. A reply that was
// taken for the dialog is always waited for: it is shown nowhere else.
func (w *waiter) wait(ctx context.Context, d time.Duration) (r *engine.Reply, loc string, inDialog, ok bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.done:
	case <-t.C:
	case <-ctx.Done():
	}
	w.mu.Lock()
	select {
	case <-w.done:
	default:
		if !w.inDialog {
			w.gaveUp = true
			w.mu.Unlock()
			return nil, "", false, false
		}
		w.mu.Unlock()
		<-w.done
		w.mu.Lock()
	}
	defer w.mu.Unlock()
	return w.reply, w.loc, w.inDialog, true
}
