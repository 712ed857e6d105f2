package twilio_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
	ivr "github.com/resetbot/resetbot/ivr/twilio"
)

// BenchmarkWebhookRedis times single webhooks of real calls (answer,
// language, menu choice, employee number, hang-up) with the engine's state
// in a throwaway redis-server, and reports p50 and p99. The anti-enumeration
// floor is off here (tests build with Floor -1): production identify turns
// last at least app.DefaultFloor on purpose.
func BenchmarkWebhookRedis(b *testing.B) {
	addr := testserver.Redis(b)
	h := newHarness(b, func(c *config.Config) {
		rc := redis.DefaultConfig()
		rc.Addrs, rc.AllowPlain = []string{addr}, true
		c.Store = config.StoreConfig{Type: "redis", Plugin: rc}
	})
	var lat []time.Duration
	timed := func(path, query string, form map[string]string) *httptest.ResponseRecorder {
		v := make(map[string][]string, len(form))
		for k, x := range form {
			v[k] = []string{x}
		}
		req := twiliotest.Request(twiliotest.AuthToken, public+path+query, path+query, v)
		w := httptest.NewRecorder()
		start := time.Now()
		h.ivr.ServeHTTP(w, req)
		lat = append(lat, time.Since(start))
		if w.Code != http.StatusOK && w.Code != http.StatusNoContent {
			b.Fatalf("%s: %d", path, w.Code)
		}
		return w
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		sid := "CAbench" + strconv.Itoa(i)
		f := func(kv ...string) map[string]string {
			m := map[string]string{"AccountSid": twiliotest.AccountSID, "CallSid": sid, "From": caller}
			for j := 0; j+1 < len(kv); j += 2 {
				m[kv[j]] = kv[j+1]
			}
			return m
		}
		timed(ivr.PathIncoming, "", f())
		timed(ivr.PathLanguage, "", f("Digits", "1"))
		timed(ivr.PathGather, "?l=en&n=1&s=0&w=0", f("Digits", "1"))
		timed(ivr.PathGather, "?l=en&n=2&s=0&w=0", f("Digits", "10041"))
		timed(ivr.PathStatus, "", f("CallStatus", "completed"))
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		b.ReportMetric(float64(len(lat))/float64(b.N), "webhooks/op")
	}
}
