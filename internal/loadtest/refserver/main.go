// Command refserver is the reference handler of `make bench-load`: the
// least work a Slack or Twilio turn can do — authenticate the signed
// webhook, look a Slack user up on first contact (users.info, remembered
// like resetbot's profiles), claim the delivery and read the session in one
// Redis round trip,
// write the session in a second, answer (TwiML, or an ack and then
// chat.postMessage from a small worker pool). resetbot's cost per turn is
// reported as a ratio of this one's, measured in the same run.
//
// It is a benchmark baseline only: no flows, no directory, no audit.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

type server struct {
	rdb       *redis.Client
	trips     atomic.Int64 // Redis round trips (commands and pipelines)
	slackKey  []byte
	twilioKey []byte
	public    string
	slackAPI  string
	posts     chan [2]string
	hc        *http.Client
	// usersInfo, when set, looks a Slack user up with users.info on its
	// first event and remembers the answer for profileTTL, as resetbot
	// does (it must tell guests and deactivated accounts from employees
	// before any flow): the same Web API calls as resetbot for the same
	// traffic. -users-info=false is the A/B reference that never looks
	// anyone up.
	usersInfo bool
	seen      profiles
}

// profiles remembers which users were looked up, and when, like resetbot's
// profile cache (same lifetime and bound; full, it starts over).
type profiles struct {
	mu   sync.Mutex
	when map[string]time.Time
}

const (
	profileTTL = 10 * time.Minute
	profileMax = 10000
)

func (p *profiles) fresh(user string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	at, ok := p.when[user]
	return ok && now.Sub(at) < profileTTL
}

func (p *profiles) put(user string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.when == nil || len(p.when) >= profileMax {
		p.when = make(map[string]time.Time, profileMax)
	}
	p.when[user] = now
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen address")
	addr := flag.String("redis", "", "redis host:port")
	slackAPI := flag.String("slack-api", "", "Slack Web API base URL (ends with /)")
	public := flag.String("public-url", "", "public URL Twilio signatures cover")
	slackSecret := flag.String("slack-secret", "", "Slack signing secret")
	twilioToken := flag.String("twilio-token", "", "Twilio auth token")
	usersInfo := flag.Bool("users-info", true, "look a Slack user up with users.info on first contact (cached 10 min), as resetbot does")
	flag.Parse()
	workers := 8
	s := &server{
		rdb:      redis.NewClient(&redis.Options{Addr: *addr, PoolSize: 64}),
		slackKey: []byte(*slackSecret), twilioKey: []byte(*twilioToken), public: *public, slackAPI: *slackAPI,
		posts: make(chan [2]string, 256), usersInfo: *usersInfo,
		hc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConns: workers * 2, MaxIdleConnsPerHost: workers * 2}},
	}
	s.rdb.AddHook(tripHook{&s.trips})
	for range workers {
		go s.poster()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/events", s.slack)
	mux.HandleFunc("POST /voice/", s.voice)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /roundtrips", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strconv.FormatInt(s.trips.Load(), 10))
	})
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

func (s *server) slack(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	ts := r.Header.Get("X-Slack-Request-Timestamp")
	n, _ := strconv.ParseInt(ts, 10, 64)
	m := hmac.New(sha256.New, s.slackKey)
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	want := "v0=" + hex.EncodeToString(m.Sum(nil))
	if d := time.Since(time.Unix(n, 0)); d > 5*time.Minute || d < -5*time.Minute ||
		!hmac.Equal([]byte(want), []byte(r.Header.Get("X-Slack-Signature"))) {
		http.Error(w, "signature", http.StatusUnauthorized)
		return
	}
	var ev struct {
		EventID string `json:"event_id"`
		Event   struct{ User, Channel, Text string }
	}
	if json.Unmarshal(body, &ev) != nil || ev.EventID == "" {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	if s.usersInfo && !s.seen.fresh(ev.Event.User, time.Now()) {
		if !s.lookUp(r.Context(), ev.Event.User) {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		s.seen.put(ev.Event.User, time.Now())
	}
	if !s.turn(r.Context(), "slack", ev.EventID, ev.Event.User) {
		w.WriteHeader(http.StatusOK) // a duplicate: acknowledged, not run again
		return
	}
	select {
	case s.posts <- [2]string{ev.Event.Channel, "Hi, I can reset your password. What do you need?"}:
		w.WriteHeader(http.StatusOK)
	default:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}
}

// lookUp is users.info for user through the same client as the posts; false
// when it failed.
func (s *server) lookUp(ctx context.Context, user string) bool {
	form := url.Values{"user": {user}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.slackAPI+"users.info", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer xoxb-ref")
	resp, err := s.hc.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var u struct {
		OK   bool `json:"ok"`
		User struct {
			ID, Locale string
		} `json:"user"`
	}
	return json.NewDecoder(resp.Body).Decode(&u) == nil && u.OK
}

// turn claims the delivery and loads the session in one round trip, then
// saves the session in a second. false means the delivery was seen before.
func (s *server) turn(ctx context.Context, ch, delivery, user string) bool {
	p := s.rdb.Pipeline()
	claim := p.SetNX(ctx, "ref:dlv:"+ch+":"+delivery, "1", time.Minute)
	sess := p.Get(ctx, "ref:sess:"+ch+":"+user)
	_, _ = p.Exec(ctx)
	if ok, _ := claim.Result(); !ok {
		return false
	}
	step, _ := strconv.Atoi(sess.Val())
	s.rdb.Set(ctx, "ref:sess:"+ch+":"+user, strconv.Itoa(step+1), 15*time.Minute)
	return true
}

// tripHook counts Redis round trips the way resetbot's store does: a command
// or a pipeline counts once.
type tripHook struct{ n *atomic.Int64 }

func (h tripHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h tripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}

func (h tripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

func (s *server) poster() {
	for p := range s.posts {
		form := url.Values{"channel": {p[0]}, "text": {p[1]}}
		req, _ := http.NewRequest(http.MethodPost, s.slackAPI+"chat.postMessage", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer xoxb-ref")
		resp, err := s.hc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}
}

func (s *server) voice(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	// Twilio: base64(HMAC-SHA1(token, URL + sorted key/value pairs)).
	var b bytes.Buffer
	b.WriteString(s.public + r.URL.RequestURI())
	for _, k := range slices.Sorted(maps.Keys(form)) {
		b.WriteString(k + form.Get(k))
	}
	m := hmac.New(sha1.New, s.twilioKey)
	m.Write(b.Bytes())
	if !hmac.Equal([]byte(base64.StdEncoding.EncodeToString(m.Sum(nil))), []byte(r.Header.Get("X-Twilio-Signature"))) {
		http.Error(w, "signature", http.StatusForbidden)
		return
	}
	call := form.Get("CallSid")
	seq, _ := strconv.Atoi(r.URL.Query().Get("n"))
	s.turn(r.Context(), "voice", call+":"+strconv.Itoa(seq), call)
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="dtmf" method="POST" `+
		`action="%s/voice/gather?n=%d" timeout="6"><Say>Enter your employee number, then press pound.</Say>`+
		`</Gather></Response>`, s.public, seq+1)
}
