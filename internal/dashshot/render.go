package dashshot

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// dashboard is the part of a Grafana dashboard JSON the renderer reads.
type dashboard struct {
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Panels      []panel `json:"panels"`
}

type panel struct {
	Title       string `json:"title"`
	Type        string `json:"type"`
	Description string `json:"description"`
	GridPos     struct {
		X, Y, W, H int
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
}

// Bar is one series of a rendered panel.
type Bar struct {
	Label string
	Value string
	// Width is the bar's share of the panel's largest value, in percent.
	Width float64
}

// Panel is a rendered panel.
type Panel struct {
	Title, Type, Description string
	Col, Row, W, H           int
	// Stat is a stat panel's value; Bars a time-series panel's series.
	Stat string
	Bars []Bar
	// Errors are the queries outside the evaluated subset.
	Errors []string
}

// Page is the rendered dashboard.
type Page struct {
	Title, Note string
	Panels      []Panel
}

// Build evaluates every panel of the dashboard JSON over s.
func Build(dashboardJSON []byte, s Scrapes, note string) (Page, error) {
	var d dashboard
	if err := json.Unmarshal(dashboardJSON, &d); err != nil {
		return Page{}, fmt.Errorf("dashshot: dashboard: %w", err)
	}
	pg := Page{Title: d.Title, Note: note}
	for _, p := range d.Panels {
		out := Panel{Title: p.Title, Type: p.Type, Description: p.Description,
			Col: p.GridPos.X + 1, Row: p.GridPos.Y + 1, W: p.GridPos.W, H: p.GridPos.H}
		var bars []struct {
			label string
			v     float64
		}
		for _, t := range p.Targets {
			expr := strings.NewReplacer("$__range", s.Window.String(), "$__rate_interval", s.Window.String()).Replace(t.Expr)
			res, err := s.Eval(expr)
			if err != nil {
				out.Errors = append(out.Errors, err.Error())
				continue
			}
			for _, r := range res {
				bars = append(bars, struct {
					label string
					v     float64
				}{legend(t.LegendFormat, r.labels), r.value})
			}
		}
		unit := p.FieldConfig.Defaults.Unit
		if p.Type == "stat" {
			out.Stat = "no data"
			if len(bars) > 0 {
				out.Stat = format(bars[0].v, unit)
			}
		} else {
			sort.SliceStable(bars, func(i, j int) bool { return bars[i].v > bars[j].v })
			top := 0.0
			for _, b := range bars {
				if !math.IsNaN(b.v) {
					top = math.Max(top, b.v)
				}
			}
			for _, b := range bars {
				w := 0.0
				if top > 0 && !math.IsNaN(b.v) {
					w = 100 * b.v / top
				}
				out.Bars = append(out.Bars, Bar{Label: b.label, Value: format(b.v, unit), Width: w})
			}
		}
		pg.Panels = append(pg.Panels, out)
	}
	return pg, nil
}

var legendVar = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

func legend(f string, labels map[string]string) string {
	if f == "" {
		return key(labels)
	}
	return legendVar.ReplaceAllStringFunc(f, func(m string) string { return labels[legendVar.FindStringSubmatch(m)[1]] })
}

// format prints v in the panel's unit.
func format(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "NaN"
	}
	switch unit {
	case "percentunit":
		return fmt.Sprintf("%.1f%%", v*100)
	case "s":
		if v < 1 {
			return fmt.Sprintf("%.0f ms", v*1000)
		}
		return (time.Duration(v * float64(time.Second))).Round(time.Second).String()
	case "reqps":
		return fmt.Sprintf("%.3g req/s", v)
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

// HTML renders the page: Grafana's 24-column grid, dark theme.
func (pg Page) HTML() ([]byte, error) {
	var b strings.Builder
	if err := page.Execute(&b, pg); err != nil {
		return nil, fmt.Errorf("dashshot: %w", err)
	}
	return []byte(b.String()), nil
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title><style>
body{margin:0;background:#111217;color:#ccccdc;font:13px Inter,Helvetica,Arial,sans-serif}
header{padding:10px 16px;border-bottom:1px solid #2c3235}
header h1{margin:0;font-size:18px;color:#fff}
header p{margin:4px 0 0;color:#8e8e9e;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(24,1fr);grid-auto-rows:19px;gap:6px;padding:8px 16px}
.panel{background:#181b1f;border:1px solid #2c3235;border-radius:3px;padding:6px 10px;overflow:hidden}
.panel h2{margin:0 0 6px;font-size:13px;font-weight:500;color:#fff;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.stat{font-size:30px;font-weight:600;color:#73bf69;text-align:center;margin-top:4px}
.row{display:grid;grid-template-columns:40% 1fr 70px;gap:6px;align-items:center;margin:2px 0;font-size:11px}
.lbl{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.bar{height:9px;background:#5794f2;border-radius:2px}
.val{text-align:right;color:#fff}
.err{color:#f2495c;font-size:11px}
.none{color:#8e8e9e;font-size:11px}
</style></head><body>
<header><h1>{{.Title}}</h1><p>{{.Note}}</p></header>
<div class="grid">{{range .Panels}}
<div class="panel" style="grid-column:{{.Col}} / span {{.W}};grid-row:{{.Row}} / span {{.H}}" title="{{.Description}}">
<h2>{{.Title}}</h2>{{if eq .Type "stat"}}<div class="stat">{{.Stat}}</div>{{else}}{{range .Bars}}
<div class="row"><span class="lbl">{{.Label}}</span><div class="bar" style="width:{{printf "%.1f" .Width}}%"></div><span class="val">{{.Value}}</span></div>{{else}}<div class="none">no series in the window</div>{{end}}{{end}}{{range .Errors}}<div class="err">{{.}}</div>{{end}}
</div>{{end}}
</div></body></html>
`))
