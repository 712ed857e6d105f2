package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/fanout"
	"github.com/resetbot/resetbot/core/fanout/webhook"
	hookwebhook "github.com/resetbot/resetbot/core/handoff/webhook"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	storemem "github.com/resetbot/resetbot/core/store/memory"
)

const (
	pwText  = "Sealed-Hook-Passw0rd-4471"
	hookKey = "0123456789abcdef0123456789abcdef-hook"
)

// receiver is a test receiver: it authenticates before parsing, bounds the
// body, acts once per idempotency key and decrypts the password.
type receiver struct {
	id      *age.X25519Identity
	mu      sync.Mutex
	status  []int // answers to give, in order; then 200
	raw     [][]byte
	headers []http.Header
	got     map[string]string // idempotency key -> password
	acted   int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		http.Error(w, "too big", http.StatusRequestEntityTooLarge)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.raw = append(rc.raw, body)
	rc.headers = append(rc.headers, r.Header.Clone())
	if !hookwebhook.Verify(secret.New(hookKey), r.Header.Get(hookwebhook.SignatureHeader), body, time.Now(), time.Minute) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if len(rc.status) > 0 {
		c := rc.status[0]
		rc.status = rc.status[1:]
		w.WriteHeader(c)
		return
	}
	var b webhook.Body
	if err := json.Unmarshal(body, &b); err != nil || b.ID != r.Header.Get(webhook.IdempotencyHeader) {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if _, dup := rc.got[b.ID]; dup {
		w.WriteHeader(http.StatusOK) // duplicate delivery: never act twice
		return
	}
	pw, err := webhook.Open(b, rc.id)
	if err != nil {
		http.Error(w, "cannot decrypt", http.StatusBadRequest)
		return
	}
	rc.got[b.ID] = pw.Reveal()
	rc.acted++
	w.WriteHeader(http.StatusNoContent)
}

// capStore records every value written to the store (the "store dump").
type capStore struct {
	store.Store
	mu  sync.Mutex
	all [][]byte
}

func (c *capStore) CompareAndSwap(ctx context.Context, k string, v uint64, val []byte, ttl time.Duration) (uint64, error) {
	c.mu.Lock()
	c.all = append(c.all, append([]byte(k+"="), val...))
	c.mu.Unlock()
	return c.Store.CompareAndSwap(ctx, k, v, val, ttl)
}

func newTarget(t *testing.T, url string, id *age.X25519Identity) fanout.Target {
	t.Helper()
	tg, err := webhook.Config{Name: "hr", Label: "the HR system", URL: url, Recipient: id.Recipient().String(),
		Secret: secret.New(hookKey), AllowLoopbackHTTP: true}.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

var bob = directory.User{ID: "uid=bob,ou=people,dc=example,dc=org", Directory: "corp", Login: "bob", Email: "bob@example.org"}

func TestSealedWebhookReceiverDecryptsAndNothingElseHoldsThePassword(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	rc := &receiver{id: id, status: []int{http.StatusServiceUnavailable}, got: map[string]string{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	var logs bytes.Buffer
	rec := &audit.Recorder{}
	st := &capStore{Store: storemem.New()}
	ring, _ := crypt.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{3}, 32)})
	now := time.Now()
	clk := func() time.Time { return now }
	f, err := fanout.New(fanout.Options{Targets: map[string][]fanout.Entry{"corp": {{Target: newTarget(t, srv.URL, id), Timeout: 5 * time.Second}}},
		Store: st, Keyring: ring, Audit: rec, Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: clk})
	if err != nil {
		t.Fatal(err)
	}
	rep := f.Push(context.Background(), fanout.Origin{Ref: "REF-HOOK"}, bob, secret.New(pwText))
	if rep.Results[0].Status != fanout.StatusPending {
		t.Fatalf("first delivery answered 503, want pending: %+v", rep.Results)
	}
	now = now.Add(20 * time.Second)
	if n, err := f.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	if rc.acted != 1 || len(rc.got) != 1 {
		t.Fatalf("receiver acted %d times", rc.acted)
	}
	for _, pw := range rc.got {
		if pw != pwText {
			t.Fatal("receiver decrypted something else")
		}
	}
	// Both deliveries carried the same idempotency key.
	if len(rc.headers) != 2 || rc.headers[0].Get(webhook.IdempotencyHeader) != rc.headers[1].Get(webhook.IdempotencyHeader) {
		t.Fatal("idempotency key differs between retries")
	}
	captured := [][]byte{logs.Bytes()}
	captured = append(captured, rc.raw...)
	captured = append(captured, st.all...)
	for _, h := range rc.headers {
		var b bytes.Buffer
		_ = h.Write(&b)
		captured = append(captured, b.Bytes())
	}
	for _, e := range rec.Events() {
		b, _ := json.Marshal(e)
		captured = append(captured, b)
	}
	for i, c := range captured {
		if bytes.Contains(c, []byte(pwText)) {
			t.Fatalf("captured byte stream %d holds the password", i)
		}
	}
	if len(st.all) == 0 || len(rc.raw) != 2 {
		t.Fatalf("nothing captured: %d store writes, %d bodies", len(st.all), len(rc.raw))
	}
}

func TestDuplicateDeliveryActsOnce(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	rc := &receiver{id: id, got: map[string]string{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	tg := newTarget(t, srv.URL, id)
	r := fanout.Request{Ref: "REF-DUP", User: bob, Password: secret.New(pwText)}
	for range 2 {
		if err := tg.Push(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if rc.acted != 1 {
		t.Fatalf("acted %d times", rc.acted)
	}
}

func TestClientErrorIsPermanentServerErrorIsNot(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	for code, permanent := range map[int]bool{400: true, 404: true, 429: false, 500: false, 502: false} {
		rc := &receiver{id: id, status: []int{code}, got: map[string]string{}}
		srv := httptest.NewServer(rc)
		err := newTarget(t, srv.URL, id).Push(context.Background(), fanout.Request{Ref: "R", User: bob, Password: secret.New(pwText)})
		srv.Close()
		if err == nil || isPermanent(err) != permanent {
			t.Errorf("status %d: err %v, want permanent=%v", code, err, permanent)
		}
		if err != nil && strings.Contains(err.Error(), pwText) {
			t.Fatal("password in an error")
		}
	}
}

func TestWrongKeyIsRefusedByTheReceiver(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	rc := &receiver{id: id, got: map[string]string{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	tg, _ := webhook.Config{Name: "hr", Label: "HR", URL: srv.URL, Recipient: id.Recipient().String(),
		Secret: secret.New(strings.Repeat("x", 40)), AllowLoopbackHTTP: true}.Open(context.Background())
	err := tg.Push(context.Background(), fanout.Request{Ref: "R", User: bob, Password: secret.New(pwText)})
	if !isPermanent(err) || rc.acted != 0 {
		t.Fatalf("unsigned delivery: %v, acted %d", err, rc.acted)
	}
}

func TestConfigValidate(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	good := webhook.Config{Name: "hr", URL: "https://hr.example/hook", Recipient: id.Recipient().String(), Secret: secret.New(hookKey)}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*webhook.Config){
		"http":      func(c *webhook.Config) { c.URL = "http://hr.example/hook" },
		"http-lan":  func(c *webhook.Config) { c.URL, c.AllowLoopbackHTTP = "http://10.0.0.1/hook", true },
		"recipient": func(c *webhook.Config) { c.Recipient = "ssh-ed25519 AAAA" },
		"secret":    func(c *webhook.Config) { c.Secret = secret.New("short") },
	} {
		c := good
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func isPermanent(err error) bool { return errors.Is(err, fanout.ErrPermanent) }

func BenchmarkSealedWebhookPush(b *testing.B) {
	id, _ := age.GenerateX25519Identity()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	tg, _ := webhook.Config{Name: "hr", Label: "HR", URL: srv.URL, Recipient: id.Recipient().String(),
		Secret: secret.New(hookKey), AllowLoopbackHTTP: true}.Open(context.Background())
	r := fanout.Request{Ref: "R", User: bob, Password: secret.New(pwText)}
	for b.Loop() {
		if err := tg.Push(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}
