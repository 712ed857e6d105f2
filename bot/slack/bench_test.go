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
	"github.com/resetbot/resetbot/internal/testserver"
)

// BenchmarkEventsAPIRedis drives signed message.im events through the Events
// API handler over loopback HTTP, with the state (delivery claims, engine
// sessions) in a real redis-server. It reports acknowledged events per
// second, the p50/p99 ack latency (what Slack's 3 s deadline applies to),
// how many were refused as busy, and end-to-end turns per second (engine +
// replies posted to the fake Slack) once the pool has drained.
func BenchmarkEventsAPIRedis(b *testing.B) {
	addr := testserver.Redis(b)
	e := newEnv(b, false, func(c *config.Config, o *Options) {
		c.Store.Type, c.Store.Redis.Addrs, c.Store.Redis.KeyPrefix = "redis", []string{addr}, "bench:"
		c.Channels.Slack.Workers, c.Channels.Slack.Queue = 16, 1<<17
	})
	e.f.anyUser = &fakeUser{Locale: "en-US"}
	srv := httptest.NewServer(e.b.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	var (
		seq, busy atomic.Int64
		mu        sync.Mutex
		lat       = make([]time.Duration, 0, b.N)
	)
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			i := seq.Add(1)
			user := "UB" + strconv.FormatInt(i%500, 10)
			body := messageEvent("EvB"+strconv.FormatInt(i, 10), user, "D"+user, "hello")
			ts := time.Now().Unix()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+PathEvents, strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
			req.Header.Set("X-Slack-Signature", Sign([]byte(testSecret), ts, body))
			t0 := time.Now()
			resp, err := client.Do(req)
			d := time.Since(t0)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
			case http.StatusServiceUnavailable:
				busy.Add(1)
			default:
				b.Errorf("status %d", resp.StatusCode)
			}
			local = append(local, d)
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	acked := time.Since(start)
	b.StopTimer()
	want := uint64(int64(b.N) - busy.Load())
	waitFor(b, "pool drain", func() bool { return e.b.pool.Stats().Done >= want })
	total := time.Since(start)
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
	b.ReportMetric(float64(busy.Load()), "busy")
	b.ReportMetric(float64(want)/total.Seconds(), "turns/s")
}
