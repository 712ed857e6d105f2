package dashshot_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/internal/dashshot"
)

const before = `# TYPE t_total counter
t_total{flow="reset",outcome="done"} 2
t_total{flow="reset",outcome="cancelled"} 1
# TYPE g gauge
g{q="0.9"} 7
# TYPE h_seconds histogram
h_seconds_bucket{le="10"} 0
h_seconds_bucket{le="60"} 1
h_seconds_bucket{le="+Inf"} 1
h_seconds_sum 30
h_seconds_count 1
`

const after = `# TYPE t_total counter
t_total{flow="reset",outcome="done"} 5
t_total{flow="reset",outcome="cancelled"} 2
t_total{flow="unlock",outcome="done"} 4
# TYPE g gauge
g{q="0.9"} 42
g{q="0.5"} 3
# TYPE h_seconds histogram
h_seconds_bucket{le="10"} 2
h_seconds_bucket{le="60"} 5
h_seconds_bucket{le="+Inf"} 5
h_seconds_sum 130
h_seconds_count 5
`

// TestEval checks the PromQL subset against hand-computed values over two
// scrapes a minute apart.
func TestEval(t *testing.T) {
	b, err := dashshot.Parse([]byte(before))
	if err != nil {
		t.Fatal(err)
	}
	a, err := dashshot.Parse([]byte(after))
	if err != nil {
		t.Fatal(err)
	}
	s := dashshot.Scrapes{Before: b, After: a, Window: time.Minute}
	for _, c := range []struct {
		expr string
		want float64
	}{
		{`sum(increase(t_total{outcome="done"}[1m]))`, 3 + 4},
		{`sum(increase(t_total{flow=~"reset|unlock",outcome!="cancelled"}[1m]))`, 7},
		{`sum(rate(t_total[1m]))`, 8.0 / 60},
		{`sum(increase(t_total{outcome="done"}[1m])) / clamp_min(sum(increase(t_total[1m])), 1)`, 7.0 / 8},
		{`1 - sum(increase(t_total{outcome="cancelled"}[1m])) / clamp_min(sum(increase(t_total{flow="nope"}[1m])), 1)`, math.NaN()},
		{`max(g{q="0.9"})`, 42},
		// 4 new samples: 2 in (0,10], 2 in (10,60]; the median is the
		// bucket edge 10, p75 halfway into (10,60].
		{`histogram_quantile(0.5, sum by (le) (rate(h_seconds_bucket[1m])))`, 10},
		{`histogram_quantile(0.75, sum by (le) (rate(h_seconds_bucket[1m])))`, 35},
	} {
		res, err := s.Eval(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if math.IsNaN(c.want) {
			if len(res) != 0 {
				t.Errorf("%s = %v, want no series (nothing to divide by)", c.expr, res)
			}
			continue
		}
		if len(res) != 1 {
			t.Errorf("%s = %d series, want 1", c.expr, len(res))
			continue
		}
		if got := dashshot.Value(res[0]); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.expr, got, c.want)
		}
	}
	res, err := s.Eval(`sum by (flow) (increase(t_total[1m]))`)
	if err != nil || len(res) != 2 {
		t.Fatalf("by flow: %v %v", res, err)
	}
	if _, err := s.Eval(`avg_over_time(g[5m])`); err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Errorf("a query outside the subset must say so, got %v", err)
	}
}
