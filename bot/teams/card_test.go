package teams

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/dispatch"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/enrollpage"
)

// chatQR opts into the in-chat QR delivery.
func chatQR(c *config.Config) { teamsOf(c).EnrollDelivery = EnrollDeliveryChat }

// withPage gives the rig a public URL, so the enrollment page (the default
// delivery) is available.
func withPage(c *config.Config) { c.Server.PublicURL = "https://resetbot.test" }

// TestEnrollByPage: by default the enrollment reaches Teams only as an
// Action.OpenUrl to resetbot's one-time page; no image, no setup key, no
// seed in any card; the page shows it once; the confirm in chat succeeds.
func TestEnrollByPage(t *testing.T) {
	r := newRig(t, withPage)
	card, _ := enrollToQR(r)
	raw := string(mustJSON(t, card))
	if strings.Contains(raw, "data:image") || !strings.Contains(raw, `"type":"Action.OpenUrl"`) ||
		!strings.Contains(texts(card), "private setup page") {
		t.Fatalf("want a link card without the QR:\n%s", raw)
	}
	link := regexp.MustCompile(`"url":"(https://resetbot\.test/enroll#[^"]+)"`).FindStringSubmatch(raw)
	if link == nil || !enrollpage.Check("https://resetbot.test", link[1]) {
		t.Fatalf("no enrollment page link in the card:\n%s", raw)
	}
	tok := link[1][strings.Index(link[1], "#")+1:]
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, enrollpage.Path, strings.NewReader("t="+tok))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		r.a.EnrollPages.ServeHTTP(w, req)
		return w
	}
	w := post()
	m := regexp.MustCompile(`<code>([A-Z2-7 ]+)</code>`).FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil || !strings.Contains(w.Body.String(), "Microsoft Teams") {
		t.Fatalf("page: %d %s", w.Code, w.Body.String())
	}
	if post().Code != http.StatusGone {
		t.Fatal("the page showed the seed twice")
	}
	key := strings.ReplaceAll(m[1], " ", "")
	for _, c := range r.writes() {
		if strings.Contains(c.Body, key) || strings.Contains(c.Body, "data:image") {
			t.Fatalf("the seed reached Teams: %s", c.Body)
		}
	}
	card, id := r.shown()
	code, err := totp.GenerateCode(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r.known = append(r.known, code, key) // the token is in the card by design; it must stay out of logs
	r.submit("amartin", id, map[string]any{tokenKey: r.button(card, "amartin", valueText), fieldText: code})
	card, _ = r.shown()
	if !strings.Contains(texts(card), "authenticator app is set up") {
		t.Fatalf("confirm:\n%s", texts(card))
	}
	r.logs.AssertNoSecrets(t, key, tok)
	r.sweep()
}

// TestEnrollWithoutPageFailsClosed: page delivery without a public URL never
// falls back to putting the QR in the card.
func TestEnrollWithoutPageFailsClosed(t *testing.T) {
	r := newRig(t)
	card, _ := enrollToQR(r)
	if raw := string(mustJSON(t, card)); strings.Contains(raw, "data:image") || !strings.Contains(texts(card), "could not be prepared") {
		t.Fatalf("card:\n%s", raw)
	}
}

// TestEnrollQRCard (opt-in chat delivery): the QR is a data: URI image in a
// private card, without the setup key (a card stays in the history); typing
// the answer instead of using the card freezes the QR card (image removed).
func TestEnrollQRCard(t *testing.T) {
	r := newRig(t, chatQR)
	card, qrID := enrollToQR(r)
	raw := string(mustJSON(t, card))
	if !strings.Contains(raw, `"url":"data:image/png;base64,iVBOR`) {
		t.Fatalf("no QR image in the card:\n%s", raw)
	}
	if strings.Contains(texts(card), "Setup key") {
		t.Fatalf("the setup key was put in a card:\n%s", texts(card))
	}
	r.say("amartin", "000000") // typed, not through the card
	w := r.writes()
	frozen, fresh := w[len(w)-2], w[len(w)-1]
	if frozen.Method != http.MethodPut || frozen.ID != qrID {
		t.Fatalf("the QR card was not replaced: %+v", frozen)
	}
	if strings.Contains(frozen.Body, "data:image") || strings.Contains(frozen.Body, "rb_tok") {
		t.Fatalf("the frozen card still shows the QR or buttons: %s", frozen.Body)
	}
	if !strings.Contains(frozen.Body, "were removed from this card") {
		t.Errorf("the frozen card does not say why the QR is gone: %s", frozen.Body)
	}
	if strings.Contains(fresh.Body, "data:image") || !strings.Contains(fresh.Body, "did not work") {
		t.Fatalf("new card: %s", fresh.Body)
	}
	r.sweep()
}

// TestSpanishLocale renders cards in the activity's language.
func TestSpanishLocale(t *testing.T) {
	r := newRig(t)
	act := r.activity("amartin", "message")
	act["text"] = "restablecer"
	act["locale"] = "es-MX"
	r.send(act)
	card, _ := r.shown()
	if !strings.Contains(texts(card), "contraseña") || !strings.Contains(string(mustJSON(t, card)), `"title":"Cancelar"`) {
		t.Fatalf("not Spanish:\n%s", mustJSON(t, card))
	}
}

type fullPool struct{}

func (fullPool) Submit(dispatch.Job) error { return dispatch.ErrFull }

// TestBusyAndPanics: a full pool answers 503 with Retry-After; a handler
// panic answers 500 without the panic value.
func TestBusyAndPanics(t *testing.T) {
	r := newRig(t)
	r.bot.pool = fullPool{}
	act := r.activity("amartin", "message")
	act["text"] = "reset"
	req, _ := http.NewRequest(http.MethodPost, r.http.URL+"/api/messages", strings.NewReader(string(mustJSON(t, act))))
	req.Header.Set("Authorization", r.bearer())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("full pool: HTTP %d", resp.StatusCode)
	}
	r.bot.validator = nil // forces a nil dereference inside the handler
	if code, _ := r.post(act, r.bearer()); code != http.StatusInternalServerError {
		t.Fatalf("panic: HTTP %d", code)
	}
	if !r.logs.Contains("teams: handler panic") {
		t.Error("panic not logged")
	}
}

// TestSlowInvoke: when a card action takes longer than InvokeWait, the
// invoke answers "working on it" and the card is updated by the connector.
func TestSlowInvoke(t *testing.T) {
	r := newRig(t, func(c *config.Config) { teamsOf(c).Actions = ActionsExecute })
	r.say("amartin", "reset")
	card, id := r.shown()
	r.bot.wait = time.Nanosecond
	act := r.activity("amartin", "invoke")
	act["name"] = invokeCardAction
	act["replyToId"] = id
	act["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": executeVerb,
		"data": map[string]any{tokenKey: r.button(card, "amartin", "c:email")}}}
	code, body := r.post(act, r.bearer())
	r.jobs++
	r.idle()
	var res struct {
		Type  string `json:"type"`
		Value any    `json:"value"`
	}
	if err := json.Unmarshal(body, &res); err != nil || code != http.StatusOK {
		t.Fatalf("HTTP %d %s", code, body)
	}
	if res.Type == invokeTypeMessage {
		w := r.writes()
		if last := w[len(w)-1]; last.Method != http.MethodPut || last.ID != id || !strings.Contains(last.Body, "a code is on its way") {
			t.Fatalf("late result not delivered to the card: %+v", last)
		}
	} else if res.Type != invokeTypeCard { // the worker may still win the race
		t.Fatalf("invoke response type %q", res.Type)
	}
}

// TestCardRendering checks the widgets chosen for each expectation.
func TestCardRendering(t *testing.T) {
	r := newRig(t)
	c := r.bot.cards
	reply := func(ex engine.Expect) engine.Reply {
		return engine.Reply{Flow: "reset", State: "s", Outputs: []engine.Output{{MessageID: "identify.prompt", Expect: ex}}}
	}
	tests := []struct {
		name    string
		ex      engine.Expect
		inputs  string
		actions int
	}{
		{"text", engine.Expect{Kind: engine.ExpectText}, fieldText, 2},
		{"digits", engine.Expect{Kind: engine.ExpectDigits, MinDigits: 6, MaxDigits: 8}, fieldText, 2},
		{"secret once", engine.Expect{Kind: engine.ExpectSecret}, fieldPass, 2},
		{"secret twice", engine.Expect{Kind: engine.ExpectSecret, Confirm: true}, fieldPass + "," + fieldPass2, 2},
		{"choice", engine.Expect{Kind: engine.ExpectChoice, Choices: []engine.Choice{{ID: "sms", MessageID: "factor.sms"}}}, "", 2},
		{"none", engine.Expect{}, "", 1},
		// Side choices beside a code field: Send, the choices, Cancel.
		{"digits with side choices", engine.Expect{Kind: engine.ExpectDigits, MinDigits: 6, MaxDigits: 8,
			Choices: []engine.Choice{{ID: "sms", MessageID: "factor.sms"}, {ID: "email", MessageID: "factor.email"}}}, fieldText, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card := c.card(reply(tt.ex), "en", "aad-x", true)
			if got := strings.Join(inputs(card), ","); got != tt.inputs {
				t.Errorf("inputs %q, want %q", got, tt.inputs)
			}
			if got := len(list(card["actions"])); got != tt.actions {
				t.Errorf("%d actions, want %d", got, tt.actions)
			}
			frozen := c.card(reply(tt.ex), "en", "aad-x", false)
			if len(inputs(frozen)) != 0 || frozen["actions"] != nil {
				t.Errorf("frozen card keeps inputs or actions: %v", frozen)
			}
		})
	}
	_ = context.Background()
}

// TestQRCardFrozenWhenAbandoned: a user who walks away from enrollment does
// not leave the QR code on screen: the freeze is queued in the shared store
// and done by another replica (a fresh Bot, as after a restart) once due.
func TestQRCardFrozenWhenAbandoned(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := newRig(t, chatQR)
	r.bot.now = clock
	r.bot.cleanups = enrollpage.NewCleanups(r.a.Store, "teams-qr", clock, nil)
	_, qrID := enrollToQR(r)
	// Another replica's queue on the same store, as after a restart.
	r.bot.cleanups = enrollpage.NewCleanups(r.a.Store, "teams-qr", clock, nil)
	other := r.bot
	ctx := context.Background()
	if n, _ := other.SweepCleanups(ctx); n != 0 {
		t.Fatal("frozen before due")
	}
	seen := len(r.writes())
	mu.Lock()
	now = now.Add(qrMaxAge)
	mu.Unlock()
	if n, err := other.SweepCleanups(ctx); n != 1 || err != nil {
		t.Fatalf("sweep: %d %v", n, err)
	}
	w := r.writes()
	last := w[len(w)-1]
	if len(w) == seen || last.Method != http.MethodPut || last.ID != qrID || strings.Contains(last.Body, "data:image/png") {
		t.Fatalf("the QR card was not frozen: %+v", last)
	}
	if n, _ := r.bot.SweepCleanups(ctx); n != 0 {
		t.Fatal("a freeze ran twice")
	}
}

// enrollToQR runs amartin's enrollment through the cards, verifying with a
// reset's two factors (SMS and email), up to the QR card.
func enrollToQR(r *rig) (map[string]any, string) {
	r.say("amartin", "enroll")
	card, id := r.shown()
	r.submit("amartin", id, map[string]any{tokenKey: r.button(card, "amartin", "c:sms")})
	for range 2 { // the text message's code, then the email's, sent at once
		card, id = r.shown()
		r.submit("amartin", id, map[string]any{tokenKey: r.button(card, "amartin", valueText), fieldText: r.code()})
	}
	return r.shown()
}

// TestEnrollByPageExecute: with Action.Execute the enrollment card comes back
// in the invoke's HTTP body, not through the connector; it is the page link
// there too, never the QR code or the setup key.
func TestEnrollByPageExecute(t *testing.T) {
	r := newRig(t, withPage, func(c *config.Config) { teamsOf(c).Actions = ActionsExecute })
	r.say("amartin", "enroll")
	card, id := r.shown()
	invoke := func(data map[string]any) map[string]any {
		t.Helper()
		act := r.activity("amartin", "invoke")
		act["name"] = invokeCardAction
		act["replyToId"] = id
		act["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": executeVerb, "data": data}, "trigger": "manual"}
		code, body := r.post(act, r.bearer())
		r.jobs++
		r.idle()
		var res struct {
			Type  string         `json:"type"`
			Value map[string]any `json:"value"`
		}
		if err := json.Unmarshal(body, &res); err != nil || code != http.StatusOK || res.Type != invokeTypeCard {
			t.Fatalf("invoke: %d %s", code, body)
		}
		return res.Value
	}
	card = invoke(map[string]any{tokenKey: r.button(card, "amartin", "c:sms")})
	for range 2 { // the text message's code, then the email's, sent at once
		card = invoke(map[string]any{tokenKey: r.button(card, "amartin", valueText), fieldText: r.code()})
	}
	raw := string(mustJSON(t, card))
	if strings.Contains(raw, "data:image") || strings.Contains(raw, "Setup key") || !strings.Contains(raw, "Action.OpenUrl") {
		t.Fatalf("the invoke answer is not the page link:\n%s", raw)
	}
	r.sweep()
}
