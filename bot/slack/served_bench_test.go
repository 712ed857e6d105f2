package slack

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/server"
)

// BenchmarkEventsServed sends signed message.im events, one at a time,
// through the public listener's middleware (request ID, span, metrics,
// recovery, limits, headers) to the Events API handler, as `resetbot serve`
// mounts it, over loopback HTTP; state is in the in-memory store. Its
// allocations are the inbound path's per turn (plus the client's, the
// same before and after a change): BenchmarkEventsAPIRedis skips the
// middleware.
func BenchmarkEventsServed(b *testing.B) {
	e := newEnv(b, false)
	e.f.anyUser = &fakeUser{Locale: "en-US"}
	s := server.New(server.Settings{}, nil, nil)
	for p, h := range e.b.Routes() {
		s.Handle(p, h)
	}
	srv := httptest.NewServer(s.PublicHandler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 10 * time.Second}
	i := 0
	for b.Loop() {
		i++
		user := "US" + strconv.Itoa(i%500)
		body := messageEvent("EvS"+strconv.Itoa(i), user, "D"+user, "hello")
		ts := time.Now().Unix()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+PathEvents, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Slack-Signature", Sign([]byte(testSecret), ts, body))
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
