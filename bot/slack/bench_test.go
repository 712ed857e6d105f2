package slack

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
)

// BenchmarkEventsAPIRedis drives signed message.im events through the Events
// API handler over loopback HTTP, with the state (delivery claims, engine
// sessions) in a real redis-server. It reports acknowledged events per
// second, the p50/p99 ack latency (what Slack's 3 s deadline applies to),
// how many were refused as busy, and end-to-end turns per second (engine +
// replies posted to the fake Slack) once the pool has drained. It runs with
// one client (uncontended ack latency) and with 32 concurrent clients.
func BenchmarkEventsAPIRedis(b *testing.B) {
	addr := testserver.Redis(b)
	for _, clients := range []int{1, 32} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) { benchEvents(b, addr, clients) })
	}
}

// loadRun is the shared state of one benchmark run.
type loadRun struct {
	url       string
	client    *http.Client
	seq, busy atomic.Int64
	mu        sync.Mutex
	lat       []time.Duration
}

// benchRuns gives every run its own key prefix: the testing package calls
// a benchmark several times against the same redis-server.
var benchRuns atomic.Int64

func benchEvents(b *testing.B, addr string, clients int) {
	prefix := "bench" + strconv.FormatInt(benchRuns.Add(1), 10) + ":"
	e := newEnv(b, false, func(c *config.Config, o *Options) {
		rc := redis.DefaultConfig()
		rc.Addrs, rc.KeyPrefix = []string{addr}, prefix
		c.Store = config.StoreConfig{Type: "redis", Plugin: rc}
		slackOf(c).Workers, slackOf(c).Queue = 16, 1<<17
	})
	e.f.anyUser = &fakeUser{Locale: "en-US"}
	srv := httptest.NewServer(e.b.Handler())
	defer srv.Close()
	run := &loadRun{url: srv.URL + PathEvents, lat: make([]time.Duration, 0, b.N),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() { run.post(b, int64(b.N)) })
	}
	wg.Wait()
	acked := time.Since(start)
	b.StopTimer()
	want := uint64(int64(b.N) - run.busy.Load())
	waitFor(b, "pool drain", func() bool { return e.b.pool.Stats().Done >= want })
	total := time.Since(start)
	lat := run.lat
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds())
	}
	b.ReportMetric(float64(b.N)/acked.Seconds(), "events/s")
	b.ReportMetric(pct(0.50), "p50-ack-µs")
	b.ReportMetric(pct(0.99), "p99-ack-µs")
	b.ReportMetric(float64(run.busy.Load()), "busy")
	b.ReportMetric(float64(want)/total.Seconds(), "turns/s")
}

// post sends events until n have been sent in total by all clients.
func (r *loadRun) post(b *testing.B, n int64) {
	local := make([]time.Duration, 0, 1024)
	defer func() {
		r.mu.Lock()
		r.lat = append(r.lat, local...)
		r.mu.Unlock()
	}()
	for {
		i := r.seq.Add(1)
		if i > n {
			return
		}
		user := "UB" + strconv.FormatInt(i%500, 10)
		body := messageEvent("EvB"+strconv.FormatInt(i, 10), user, "D"+user, "hello")
		ts := time.Now().Unix()
		req, _ := http.NewRequest(http.MethodPost, r.url, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Slack-Signature", Sign([]byte(testSecret), ts, body))
		t0 := time.Now()
		resp, err := r.client.Do(req)
		d := time.Since(t0)
		if err != nil {
			b.Error(err)
			return
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			r.busy.Add(1)
		default:
			b.Errorf("status %d", resp.StatusCode)
		}
		local = append(local, d)
	}
}
