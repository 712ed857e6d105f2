package dashshot

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// matcher is one label matcher of a selector.
type matcher struct {
	name, op, val string
	re            *regexp.Regexp
}

func (m matcher) ok(labels map[string]string) bool {
	v := labels[m.name]
	switch m.op {
	case "=":
		return v == m.val
	case "!=":
		return v != m.val
	default:
		return m.re.MatchString(v)
	}
}

// matchers parses an optional {a="b",c=~"d|e"}.
func (p *parser) matchers() ([]matcher, error) {
	if p.peek() != "{" {
		return nil, nil
	}
	p.next()
	var ms []matcher
	for p.peek() != "}" {
		name, op, raw := p.next(), p.next(), p.next()
		val, err := strconv.Unquote(raw)
		if err != nil || (op != "=" && op != "!=" && op != "=~") {
			return nil, fmt.Errorf("unsupported matcher %s%s%s", name, op, raw)
		}
		m := matcher{name: name, op: op, val: val}
		if op == "=~" {
			if m.re, err = regexp.Compile("^(?:" + val + ")$"); err != nil {
				return nil, err
			}
		}
		ms = append(ms, m)
		if p.peek() == "," {
			p.next()
		}
	}
	p.next()
	return ms, nil
}

// labelList parses "(a, b)".
func (p *parser) labelList() ([]string, error) {
	if err := p.want("("); err != nil {
		return nil, err
	}
	var out []string
	for p.peek() != ")" && p.peek() != "" {
		if t := p.next(); t != "," {
			out = append(out, t)
		}
	}
	return out, p.want(")")
}

// aggregate parses sum|max [by (..)] (expr).
func (p *parser) aggregate(op string) (value, error) {
	var by []string
	var err error
	if p.peek() == "by" {
		p.next()
		if by, err = p.labelList(); err != nil {
			return value{}, err
		}
	}
	if err := p.want("("); err != nil {
		return value{}, err
	}
	in, err := p.expr()
	if err != nil {
		return value{}, err
	}
	if err := p.want(")"); err != nil {
		return value{}, err
	}
	groups := map[string]*series{}
	var keys []string
	for _, s := range in.vec {
		l := map[string]string{}
		for _, b := range by {
			if v, ok := s.labels[b]; ok {
				l[b] = v
			}
		}
		k := key(l)
		g, ok := groups[k]
		if !ok {
			g = &series{labels: l, value: s.value}
			groups[k] = g
			keys = append(keys, k)
			continue
		}
		if op == "sum" {
			g.value += s.value
		} else {
			g.value = math.Max(g.value, s.value)
		}
	}
	sort.Strings(keys)
	out := value{}
	for _, k := range keys {
		out.vec = append(out.vec, *groups[k])
	}
	return out, nil
}

// call parses rate, increase, histogram_quantile and clamp_min.
func (p *parser) call(fn string) (value, error) {
	if err := p.want("("); err != nil {
		return value{}, err
	}
	var out value
	switch fn {
	case "rate", "increase":
		name := p.next()
		ms, err := p.matchers()
		if err != nil {
			return value{}, err
		}
		if !strings.HasPrefix(p.next(), "[") {
			return value{}, fmt.Errorf("unsupported query: %s needs a range", fn)
		}
		out.vec = p.s.delta(name, ms)
		if fn == "rate" {
			for i := range out.vec {
				out.vec[i].value /= p.s.Window.Seconds()
			}
		}
	case "histogram_quantile", "clamp_min":
		first, err := p.expr()
		if err != nil {
			return value{}, err
		}
		if err := p.want(","); err != nil {
			return value{}, err
		}
		second, err := p.expr()
		if err != nil {
			return value{}, err
		}
		if fn == "clamp_min" {
			for _, s := range first.vec {
				out.vec = append(out.vec, series{labels: s.labels, value: math.Max(s.value, second.scalar)})
			}
		} else {
			out.vec = quantile(first.scalar, second.vec)
		}
	}
	return out, p.want(")")
}

// binary applies op to scalars and vectors; two vectors match on equal
// label sets.
func binary(op string, l, r value) (value, error) {
	f := func(a, b float64) float64 {
		switch op {
		case "+":
			return a + b
		case "-":
			return a - b
		case "*":
			return a * b
		}
		if b == 0 {
			return math.NaN()
		}
		return a / b
	}
	switch {
	case l.isScalar && r.isScalar:
		return value{scalar: f(l.scalar, r.scalar), isScalar: true}, nil
	case l.isScalar:
		out := value{}
		for _, s := range r.vec {
			out.vec = append(out.vec, series{labels: s.labels, value: f(l.scalar, s.value)})
		}
		return out, nil
	case r.isScalar:
		out := value{}
		for _, s := range l.vec {
			out.vec = append(out.vec, series{labels: s.labels, value: f(s.value, r.scalar)})
		}
		return out, nil
	}
	right := map[string]float64{}
	for _, s := range r.vec {
		right[key(s.labels)] = s.value
	}
	out := value{}
	for _, s := range l.vec {
		if v, ok := right[key(s.labels)]; ok {
			out.vec = append(out.vec, series{labels: s.labels, value: f(s.value, v)})
		}
	}
	return out, nil
}

// quantile is histogram_quantile over cumulative "le" buckets, with
// Prometheus' linear interpolation inside a bucket.
func quantile(q float64, vec []series) []series {
	type bucket struct{ le, n float64 }
	groups := map[string][]bucket{}
	labels := map[string]map[string]string{}
	for _, s := range vec {
		l := map[string]string{}
		for k, v := range s.labels {
			if k != "le" {
				l[k] = v
			}
		}
		le, err := strconv.ParseFloat(s.labels["le"], 64)
		if err != nil {
			continue
		}
		k := key(l)
		groups[k], labels[k] = append(groups[k], bucket{le, s.value}), l
	}
	var out []series
	for k, bs := range groups {
		sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
		total := bs[len(bs)-1].n
		if total == 0 {
			continue
		}
		rank, prevLe, prevN := q*total, 0.0, 0.0
		v := bs[len(bs)-1].le
		for _, b := range bs {
			if b.n >= rank {
				if math.IsInf(b.le, 1) {
					v = prevLe
				} else {
					v = prevLe + (b.le-prevLe)*(rank-prevN)/math.Max(b.n-prevN, 1e-9)
				}
				break
			}
			prevLe, prevN = b.le, b.n
		}
		out = append(out, series{labels: labels[k], value: v})
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i].labels) < key(out[j].labels) })
	return out
}

// instant returns name's current samples (the After scrape).
func (s Scrapes) instant(name string, ms []matcher) []series {
	return filter(samples(s.After, name), ms)
}

// delta returns how much each of name's series grew over the window; a
// series absent before counts from 0.
func (s Scrapes) delta(name string, ms []matcher) []series {
	before := map[string]float64{}
	for _, b := range samples(s.Before, name) {
		before[key(b.labels)] = b.value
	}
	var out []series
	for _, a := range filter(samples(s.After, name), ms) {
		out = append(out, series{labels: a.labels, value: a.value - before[key(a.labels)]})
	}
	return out
}

func filter(in []series, ms []matcher) []series {
	var out []series
next:
	for _, s := range in {
		for _, m := range ms {
			if !m.ok(s.labels) {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// samples flattens a family (or a histogram's _bucket, _count or _sum
// series) into labelled values.
func samples(fams map[string]*dto.MetricFamily, name string) []series {
	base, part := name, ""
	for _, suf := range []string{"_bucket", "_count", "_sum"} {
		if b, ok := strings.CutSuffix(name, suf); ok && fams[name] == nil && fams[b] != nil {
			base, part = b, suf
		}
	}
	mf := fams[base]
	if mf == nil {
		return nil
	}
	var out []series
	for _, m := range mf.GetMetric() {
		l := map[string]string{}
		for _, lp := range m.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		switch {
		case m.GetHistogram() != nil && part == "_bucket":
			h := m.GetHistogram()
			inf := false
			for _, b := range h.GetBucket() {
				inf = inf || math.IsInf(b.GetUpperBound(), 1)
				out = append(out, series{labels: with(l, "le", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)), value: float64(b.GetCumulativeCount())})
			}
			if !inf { // the +Inf bucket is implicit in some encodings
				out = append(out, series{labels: with(l, "le", "+Inf"), value: float64(h.GetSampleCount())})
			}
		case m.GetHistogram() != nil && part == "_count":
			out = append(out, series{labels: l, value: float64(m.GetHistogram().GetSampleCount())})
		case m.GetHistogram() != nil && part == "_sum":
			out = append(out, series{labels: l, value: m.GetHistogram().GetSampleSum()})
		case m.GetCounter() != nil:
			out = append(out, series{labels: l, value: m.GetCounter().GetValue()})
		case m.GetGauge() != nil:
			out = append(out, series{labels: l, value: m.GetGauge().GetValue()})
		case m.GetUntyped() != nil:
			out = append(out, series{labels: l, value: m.GetUntyped().GetValue()})
		}
	}
	return out
}

func with(l map[string]string, k, v string) map[string]string {
	c := make(map[string]string, len(l)+1)
	for a, b := range l {
		c[a] = b
	}
	c[k] = v
	return c
}

// key is a stable form of a label set.
func key(l map[string]string) string {
	ks := make([]string, 0, len(l))
	for k := range l {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	for _, k := range ks {
		b.WriteString(k + "=" + l[k] + ",")
	}
	return b.String()
}
