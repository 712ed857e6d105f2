// Package dashshot renders deploy/grafana/resetbot.json without Grafana:
// each panel's PromQL queries are evaluated over two real /metrics scrapes
// of resetbot (before and after a window of traffic) and drawn as an HTML
// page, which headless Chromium turns into the dashboard screenshot in
// docs/img. It evaluates only the PromQL subset the dashboard uses —
// rate, increase, sum/max by, histogram_quantile, clamp_min, + - * / —
// and says so on a panel whose query falls outside it. With two scrapes
// there is no history: a time-series panel shows each series' value over
// the window as a bar, not a line.
package dashshot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	dto "github.com/prometheus/client_model/go"
)

// Scrapes are the two samples a query is evaluated over.
type Scrapes struct {
	Before, After map[string]*dto.MetricFamily
	Window        time.Duration
}

// series is one labelled value of a vector.
type series struct {
	labels map[string]string
	value  float64
}

// Value returns a series' value.
func Value(s series) float64 { return s.value }

// value is a query result: a scalar or a vector.
type value struct {
	scalar   float64
	isScalar bool
	vec      []series
}

// Eval evaluates expr (Grafana's $__range and $__rate_interval stand for the
// window) and returns its series.
func (s Scrapes) Eval(expr string) ([]series, error) {
	p := &parser{toks: tokenize(expr), s: s}
	v, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unsupported query: unexpected %q", p.toks[p.pos])
	}
	if v.isScalar {
		return []series{{labels: map[string]string{}, value: v.scalar}}, nil
	}
	return v.vec, nil
}

// tokenize splits a query into identifiers, numbers, strings and symbols.
func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				j++
			}
			toks = append(toks, s[i:min(j+1, len(s))])
			i = j + 1
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				j = len(s) - i - 1
			}
			toks = append(toks, s[i:i+j+1])
			i += j + 1
		case unicode.IsLetter(c) || c == '_' || unicode.IsDigit(c) || c == '.':
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_' || s[j] == '.' || s[j] == ':') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case strings.HasPrefix(s[i:], "=~") || strings.HasPrefix(s[i:], "!="):
			toks = append(toks, s[i:i+2])
			i += 2
		default:
			toks = append(toks, string(c))
			i++
		}
	}
	return toks
}

type parser struct {
	toks []string
	pos  int
	s    Scrapes
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string { t := p.peek(); p.pos++; return t }

func (p *parser) want(t string) error {
	if got := p.next(); got != t {
		return fmt.Errorf("unsupported query: want %q, got %q", t, got)
	}
	return nil
}

func (p *parser) expr() (value, error) {
	l, err := p.term()
	for err == nil && (p.peek() == "+" || p.peek() == "-") {
		op := p.next()
		var r value
		if r, err = p.term(); err == nil {
			l, err = binary(op, l, r)
		}
	}
	return l, err
}

func (p *parser) term() (value, error) {
	l, err := p.unary()
	for err == nil && (p.peek() == "*" || p.peek() == "/") {
		op := p.next()
		var r value
		if r, err = p.unary(); err == nil {
			l, err = binary(op, l, r)
		}
	}
	return l, err
}

func (p *parser) unary() (value, error) {
	t := p.peek()
	if t == "(" {
		p.next()
		v, err := p.expr()
		if err != nil {
			return v, err
		}
		return v, p.want(")")
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		p.next()
		return value{scalar: f, isScalar: true}, nil
	}
	p.next()
	switch t {
	case "sum", "max":
		return p.aggregate(t)
	case "rate", "increase", "histogram_quantile", "clamp_min":
		return p.call(t)
	}
	if t == "" || !(unicode.IsLetter(rune(t[0])) || t[0] == '_') {
		return value{}, fmt.Errorf("unsupported query at %q", t)
	}
	m, err := p.matchers()
	if err != nil {
		return value{}, err
	}
	return value{vec: p.s.instant(t, m)}, nil
}
