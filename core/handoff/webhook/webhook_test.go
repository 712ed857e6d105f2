package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/webhook"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/secret"
)

const hookSecret = "whsec-0123456789-abcdef"

func TestSignVerify(t *testing.T) {
	key := secret.New(hookSecret)
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"x"}`)
	sig := webhook.Sign(key, now, body)
	if !strings.HasPrefix(sig, "t=1800000000,v1=") || len(sig) != len("t=1800000000,v1=")+64 {
		t.Fatalf("signature %q", sig)
	}
	tests := []struct {
		name   string
		key    string
		header string
		body   string
		now    time.Time
		want   bool
	}{
		{"valid", hookSecret, sig, string(body), now, true},
		{"rotation: second v1 matches", hookSecret, "t=1800000000,v1=" + strings.Repeat("0", 64) + "," + sig[len("t=1800000000,"):], string(body), now, true},
		{"tampered body", hookSecret, sig, `{"id":"y"}`, now, false},
		{"wrong secret", "other-secret-value", sig, string(body), now, false},
		{"stale", hookSecret, sig, string(body), now.Add(webhook.DefaultTolerance + time.Second), false},
		{"future", hookSecret, sig, string(body), now.Add(-webhook.DefaultTolerance - time.Second), false},
		{"no v1", hookSecret, "t=1800000000", string(body), now, false},
		{"no t", hookSecret, sig[strings.Index(sig, "v1="):], string(body), now, false},
		{"garbage", hookSecret, "nonsense", string(body), now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhook.Verify(secret.New(tt.key), tt.header, []byte(tt.body), tt.now, webhook.DefaultTolerance); got != tt.want {
				t.Fatalf("Verify = %v", got)
			}
		})
	}
}

// receiver is a test webhook endpoint that verifies signatures and answers
// with the scripted statuses in turn (then 200).
type receiver struct {
	mu       sync.Mutex
	statuses []int
	bodies   []string
	ids      []string
	badSig   int
	got      chan struct{}
	block    chan struct{}
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if rv.block != nil {
		rv.got <- struct{}{}
		<-rv.block
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
		!webhook.Verify(secret.New(hookSecret), r.Header.Get(webhook.SignatureHeader), body, time.Now(), webhook.DefaultTolerance) {
		rv.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rv.bodies = append(rv.bodies, string(body))
	rv.ids = append(rv.ids, r.Header.Get(webhook.DeliveryHeader))
	code := http.StatusOK
	if len(rv.statuses) > 0 {
		code, rv.statuses = rv.statuses[0], rv.statuses[1:]
	}
	w.WriteHeader(code)
}

func (rv *receiver) snapshot() (bodies, ids []string, bad int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]string(nil), rv.bodies...), append([]string(nil), rv.ids...), rv.badSig
}

func newSender(t *testing.T, o webhook.Options) (*webhook.Sender, *loggingtest.Buffer) {
	t.Helper()
	lg, buf := loggingtest.Capture(t)
	o.Log, o.Backoff = lg, time.Millisecond
	s := webhook.NewSender(o)
	t.Cleanup(func() {
		s.Close()
		buf.AssertNoSecrets(t, hookSecret, "tok3n-in-path")
	})
	return s, buf
}

func TestSenderRetries(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		delivered uint64
		calls     int
	}{
		{"ok", nil, 1, 1},
		{"500 then ok", []int{500, 503}, 1, 3},
		{"429 retried", []int{429}, 1, 2},
		{"always 500: gives up", []int{500, 500, 500, 500}, 0, 3},
		{"400 is final", []int{400}, 0, 1},
		{"redirect is final", []int{302}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rv := &receiver{statuses: tt.statuses}
			srv := httptest.NewServer(rv)
			defer srv.Close()
			s, _ := newSender(t, webhook.Options{AllowLoopbackHTTP: true, Attempts: 3})
			if err := s.Send(context.Background(), webhook.Target{Name: "t", URL: srv.URL + "/tok3n-in-path", Secret: secret.New(hookSecret)}, []byte(`{"a":1}`)); err != nil {
				t.Fatal(err)
			}
			waitDone(t, s, 1)
			bodies, ids, bad := rv.snapshot()
			st := s.Stats()
			if bad != 0 || len(bodies) != tt.calls || st.Delivered != tt.delivered || st.Delivered+st.Failed != 1 {
				t.Fatalf("calls %d bad %d stats %+v", len(bodies), bad, st)
			}
			for _, id := range ids {
				if id != ids[0] || len(id) != 32 {
					t.Fatalf("delivery ids %v", ids)
				}
			}
		})
	}
}

// waitDone waits until n messages were delivered or given up.
func waitDone(t *testing.T, s *webhook.Sender, n uint64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if st := s.Stats(); st.Delivered+st.Failed >= n {
			return
		}
	}
	t.Fatalf("messages not done: %+v", s.Stats())
}

func TestSenderHTTPSOnly(t *testing.T) {
	rv := &receiver{}
	plain := httptest.NewServer(rv)
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(rv)
	defer tlsSrv.Close()
	key := secret.New(hookSecret)
	t.Run("refused", func(t *testing.T) {
		s, _ := newSender(t, webhook.Options{})
		for _, u := range []string{plain.URL, "http://example.com/hook", "ftp://example.com", "https://user:pw@example.com/", "/relative", "://"} {
			if err := s.Send(context.Background(), webhook.Target{Name: "t", URL: u, Secret: key}, nil); !errors.Is(err, webhook.ErrInsecureURL) {
				t.Errorf("%s: %v", u, err)
			}
		}
		s2, _ := newSender(t, webhook.Options{AllowLoopbackHTTP: true})
		if err := s2.Send(context.Background(), webhook.Target{URL: "http://example.com/hook", Secret: key}, nil); !errors.Is(err, webhook.ErrInsecureURL) {
			t.Errorf("non-loopback http with AllowLoopbackHTTP: %v", err)
		}
	})
	t.Run("https delivered", func(t *testing.T) {
		s, _ := newSender(t, webhook.Options{Client: tlsSrv.Client()})
		if err := s.Send(context.Background(), webhook.Target{URL: tlsSrv.URL, Secret: key}, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s.Stats().Delivered != 1 {
			t.Fatalf("stats %+v", s.Stats())
		}
	})
}

func TestSenderBounded(t *testing.T) {
	rv := &receiver{got: make(chan struct{}, 4), block: make(chan struct{})}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	s, buf := newSender(t, webhook.Options{AllowLoopbackHTTP: true, Queue: 1, Workers: 1})
	tg := webhook.Target{Name: "ticket", URL: srv.URL, Secret: secret.New(hookSecret)}
	ctx := context.Background()
	if err := s.Send(ctx, tg, []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	<-rv.got // the worker is busy with the first message
	if err := s.Send(ctx, tg, []byte(`2`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, tg, []byte(`3`)); !errors.Is(err, webhook.ErrQueueFull) {
		t.Fatalf("third send: %v", err)
	}
	close(rv.block)
	s.Close()
	if st := s.Stats(); st.Dropped != 1 || st.Delivered != 2 {
		t.Fatalf("stats %+v", st)
	}
	if !buf.Contains("queue full") {
		t.Fatal("drop not logged")
	}
	if err := s.Send(ctx, tg, nil); !errors.Is(err, webhook.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

type targets map[string]webhook.Target

func (m targets) Target(r string) (webhook.Target, bool) { t, ok := m[r]; return t, ok }

func TestNotifier(t *testing.T) {
	rv := &receiver{}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	s, _ := newSender(t, webhook.Options{AllowLoopbackHTTP: true})
	n := webhook.NewNotifier(s, targets{"apikey:itsm": {Name: "apikey:itsm", URL: srv.URL, Secret: secret.New(hookSecret)}}, nil)
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	n.Terminal(context.Background(), handoff.Handoff{ID: "AAAAAAAAAAAAAAAAAAAAAA", Action: handoff.ActionReset, User: "amartin",
		Requester: "apikey:itsm", Status: handoff.StatusDone, Factor: "totp", Ref: "R-1", Reason: "no_mobile", Updated: at})
	n.Terminal(context.Background(), handoff.Handoff{ID: "BBBBBBBBBBBBBBBBBBBBBB", Requester: "agent:slack:U1", Status: handoff.StatusFailed})
	s.Close()
	bodies, _, _ := rv.snapshot()
	if len(bodies) != 1 {
		t.Fatalf("bodies %v", bodies)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(bodies[0]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "AAAAAAAAAAAAAAAAAAAAAA", "status": "done", "action": "reset", "ref": "R-1",
		"factor": "totp", "reason": "not_possible", "time": "2026-11-27T10:00:00Z"} // never the real reason
	if len(got) != len(want) {
		t.Fatalf("body %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s = %v, want %v", k, got[k], v)
		}
	}
}
