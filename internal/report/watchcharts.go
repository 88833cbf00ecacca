package report

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/granter/runbook/internal/journal"
)

// watchMetric is one metric the watch journals per round (monitor's
// journalData): its Data key, how the value is written, and how it is drawn.
type watchMetric struct {
	key, title, unit string
	parse            func(string) (float64, bool)
	format           func(float64) string
	banded           bool // the error rate: its 95% bounds are journaled
}

// watchMetrics are the runbook's "Key Metrics to Watch", in its order.
var watchMetrics = []watchMetric{
	{journal.KeyErrorRate, "Error rate (band: 95% bounds, one-sided)", "", parseRatio, pct, true},
	{"p95", "API response time p95", "ms", parseSeconds, nil, false},
	{"db.query", "Database query time p95", "ms", parseSeconds, nil, false},
	{"cpu", "CPU usage (of the pods' limit)", "", parseRatio, pct, false},
	{"memory.growth", "Memory growth over the watch", "", parseRatio, pct, false},
	{"connections", "Active database connections", "", parseFloat, nil, false},
}

// watchCharts draws each watched metric over the monitoring rounds of the
// run, with its threshold: the SVG of MetricChartSVG, every text escaped
// there. None when the run has no monitoring round.
func watchCharts(entries []journal.Entry) []template.HTML {
	var rounds []journal.Entry
	for _, e := range entries {
		if e.Phase == journal.Monitor && strings.HasPrefix(e.Step, "round") {
			rounds = append(rounds, e)
		}
	}
	if len(rounds) == 0 {
		return nil
	}
	var out []template.HTML
	for _, m := range watchMetrics {
		c := MetricChart{Title: m.title, Unit: m.unit, Format: m.format}
		for _, e := range rounds {
			p := MetricPoint{At: e.Time, Value: math.NaN()}
			if v, ok := m.parse(e.Data[m.key]); ok {
				p.Value = v
			}
			if m.banded {
				lo, okLo := parseFloat(e.Data[journal.KeyErrorRateLo])
				hi, okHi := parseFloat(e.Data[journal.KeyErrorRateHi])
				p.Lo, p.Hi, p.Banded = lo, hi, okLo && okHi
			}
			if c.Threshold == nil {
				if t, ok := m.parse(e.Data[m.key+".threshold"]); ok {
					c.Threshold = &t
				}
			}
			c.Points = append(c.Points, p)
		}
		if m.unit == "ms" {
			c.Points = scale(c.Points, 1000)
			if c.Threshold != nil {
				t := *c.Threshold * 1000
				c.Threshold = &t
			}
		}
		out = append(out, template.HTML(MetricChartSVG(c))) // #nosec: MetricChartSVG escapes every text
	}
	return out
}

func scale(ps []MetricPoint, k float64) []MetricPoint {
	for i := range ps {
		ps[i].Value, ps[i].Lo, ps[i].Hi = ps[i].Value*k, ps[i].Lo*k, ps[i].Hi*k
	}
	return ps
}

func parseFloat(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// parseSeconds reads a Go duration ("123ms") or seconds ("0.123").
func parseSeconds(s string) (float64, bool) {
	if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil {
		return d.Seconds(), true
	}
	return parseFloat(s)
}
