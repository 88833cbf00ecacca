package report

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MetricChart is one watched metric over the watch, drawn by MetricChartSVG:
// the runbook's "Monitoring shows stable metrics" as a picture, with the
// threshold the value must stay under.
type MetricChart struct {
	Title string // "Error rate, all services"
	// Unit follows every value printed by the default Format: "ms",
	// "connections". Format, when set, prints values instead (for example
	// metrics.Ratio.Format, which prints 0.001 as "0.10%").
	Unit   string
	Format func(v float64) string
	Points []MetricPoint // in any order; sorted by At when drawn
	// Threshold, when set, is drawn as a dashed line; values over it are
	// marked. The runbook's thresholds are all upper limits ("< 0.1%").
	Threshold *float64
}

// MetricPoint is one measurement. A NaN Value is "no data" at At: the line
// breaks there rather than joining across the gap.
type MetricPoint struct {
	At    time.Time
	Value float64
	// Lo and Hi bound the value (the error rate's 95% confidence bounds,
	// internal/stats.Bound); drawn as a shaded band where Banded.
	Lo, Hi float64
	Banded bool
}

// The chart's fixed geometry: two fit side by side in the report's
// 1040px column.
const (
	mcWidth, mcHeight = 480, 250
	mcLeft, mcRight   = 78, 464 // plot area, x
	mcTop, mcBottom   = 40, 200 // plot area, y
	// mcBandCap: a band reaching more than this many times over the largest
	// value or threshold is cut at that height (a confidence band over a few
	// requests spans tens of percent and would flatten everything else);
	// the chart says so.
	mcBandCap = 3
)

// MetricChartSVG draws c as a self-contained inline SVG: the value over time
// as a line, the confidence band shaded behind it, the threshold as a dashed
// red line, the value axis's bottom, middle and top, and the first, middle and last
// times (UTC). Every text is escaped; no coordinate is NaN whatever the
// points (none, one, all equal, gaps).
func MetricChartSVG(c MetricChart) string {
	pts := mcSorted(c.Points)
	format := c.Format
	if format == nil {
		format = func(v float64) string { return mcPlain(v, c.Unit) }
	}
	sc := newMetricScale(pts, c.Threshold)

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="metric-chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" font-family="DejaVu Sans, sans-serif">`,
		mcWidth, mcHeight, mcWidth, mcHeight, mcEsc(c.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, mcEsc(c.Title))
	fmt.Fprintf(&b, `<text class="title" x="8" y="20" font-size="13" font-weight="600" fill="#1d2430">%s</text>`, mcEsc(c.Title))
	fmt.Fprintf(&b, `<rect class="plot" x="%d" y="%d" width="%d" height="%d" fill="#fff" stroke="#dde3ea"/>`, mcLeft, mcTop, mcRight-mcLeft, mcBottom-mcTop)

	// The value axis: bottom, middle (with a grid line) and top.
	mid := (sc.ymin + sc.ymax) / 2
	fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s" stroke="#eef1f5"/>`, mcLeft, mcRight, mcNum(sc.y(mid)), mcNum(sc.y(mid)))
	fmt.Fprintf(&b, `<g class="axis values" font-size="10.5" fill="#5d6b7c" text-anchor="end"><text x="%d" y="%s">%s</text><text x="%d" y="%s">%s</text><text x="%d" y="%s">%s</text></g>`,
		mcLeft-6, mcNum(float64(mcBottom)+4), mcEsc(format(sc.ymin)), mcLeft-6, mcNum(sc.y(mid)+4), mcEsc(format(mid)), mcLeft-6, mcNum(float64(mcTop)+8), mcEsc(format(sc.ymax)))

	// The time axis: first, middle and last.
	if len(pts) > 0 {
		b.WriteString(`<g class="axis times" font-size="10.5" fill="#5d6b7c">`)
		first, last := pts[0].At, pts[len(pts)-1].At
		if !last.After(first) {
			fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s UTC</text>`, mcNum(sc.x(first)), mcBottom+16, first.UTC().Format("15:04:05"))
		} else {
			mid := first.Add(last.Sub(first) / 2)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="start">%s</text>`, mcLeft, mcBottom+16, first.UTC().Format("15:04:05"))
			fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`, mcNum(sc.x(mid)), mcBottom+16, mid.UTC().Format("15:04:05"))
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s UTC</text>`, mcRight, mcBottom+16, last.UTC().Format("15:04:05"))
		}
		b.WriteString(`</g>`)
	}

	// The band first, so the line is drawn over it.
	for _, run := range mcRuns(pts, func(p MetricPoint) bool { return p.Banded && mcFinite(p.Lo) && mcFinite(p.Hi) }) {
		var upper, lower []string
		for _, p := range run {
			x := sc.x(p.At)
			if len(run) == 1 { // a band of one point: a short bar
				upper = append(upper, mcNum(x-3)+","+mcNum(sc.y(p.Hi)), mcNum(x+3)+","+mcNum(sc.y(p.Hi)))
				lower = append(lower, mcNum(x-3)+","+mcNum(sc.y(p.Lo)), mcNum(x+3)+","+mcNum(sc.y(p.Lo)))
				continue
			}
			upper = append(upper, mcNum(x)+","+mcNum(sc.y(p.Hi)))
			lower = append(lower, mcNum(x)+","+mcNum(sc.y(p.Lo)))
		}
		for i, j := 0, len(lower)-1; i < j; i, j = i+1, j-1 {
			lower[i], lower[j] = lower[j], lower[i]
		}
		fmt.Fprintf(&b, `<polygon class="band" points="%s" fill="#1565c0" fill-opacity="0.15" stroke="none"/>`, strings.Join(append(upper, lower...), " "))
	}

	if c.Threshold != nil && mcFinite(*c.Threshold) {
		y := mcNum(sc.y(*c.Threshold))
		fmt.Fprintf(&b, `<line class="threshold" x1="%d" x2="%d" y1="%s" y2="%s" stroke="#c62828" stroke-width="1.5" stroke-dasharray="6 4"/>`, mcLeft, mcRight, y, y)
		fmt.Fprintf(&b, `<text class="threshold-label" x="%d" y="%s" font-size="10.5" fill="#c62828" text-anchor="end">limit %s</text>`, mcRight-4, mcNum(sc.y(*c.Threshold)-4), mcEsc(format(*c.Threshold)))
	}

	for _, run := range mcRuns(pts, func(p MetricPoint) bool { return mcFinite(p.Value) }) {
		if len(run) > 1 {
			xy := make([]string, len(run))
			for i, p := range run {
				xy[i] = mcNum(sc.x(p.At)) + "," + mcNum(sc.y(p.Value))
			}
			fmt.Fprintf(&b, `<polyline class="value" points="%s" fill="none" stroke="#1565c0" stroke-width="2" stroke-linejoin="round"/>`, strings.Join(xy, " "))
		}
		for i, p := range run {
			over := c.Threshold != nil && p.Value >= *c.Threshold
			if len(run) > 1 && !over && i != len(run)-1 {
				continue // a point on a line needs no mark unless it is over the limit or the latest
			}
			class, fill := "point", "#1565c0"
			if over {
				class, fill = "point over", "#c62828"
			}
			fmt.Fprintf(&b, `<circle class="%s" cx="%s" cy="%s" r="3" fill="%s"><title>%s %s</title></circle>`,
				class, mcNum(sc.x(p.At)), mcNum(sc.y(p.Value)), fill, p.At.UTC().Format("15:04:05"), mcEsc(format(p.Value)))
		}
	}

	var notes []string
	switch {
	case len(pts) == 0:
		fmt.Fprintf(&b, `<text class="no-data" x="%d" y="%d" font-size="13" fill="#b26a00" text-anchor="middle">no data</text>`, (mcLeft+mcRight)/2, (mcTop+mcBottom)/2)
	case sc.gaps:
		notes = append(notes, "gaps: no data")
	}
	if sc.banded {
		notes = append(notes, "shaded: between the 95% bounds (each one-sided)")
	}
	if sc.clipped {
		notes = append(notes, fmt.Sprintf("band cut above %s", format(sc.ymax)))
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, `<text class="note" x="%d" y="%d" font-size="10.5" fill="#5d6b7c">%s</text>`, mcLeft, mcBottom+36, mcEsc(strings.Join(notes, " · ")))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// metricScale maps times and values to the plot area.
type metricScale struct {
	t0, t1                time.Time
	ymin, ymax            float64
	gaps, banded, clipped bool
}

func newMetricScale(pts []MetricPoint, threshold *float64) metricScale {
	var sc metricScale
	lo, hi := math.Inf(1), math.Inf(-1)
	see := func(v float64) {
		if mcFinite(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if threshold != nil {
		see(*threshold)
	}
	for i, p := range pts {
		if i == 0 {
			sc.t0 = p.At
		}
		sc.t1 = p.At
		see(p.Value)
		sc.gaps = sc.gaps || !mcFinite(p.Value)
	}
	top := hi // the largest value or threshold: the band may be cut above mcBandCap times it
	for _, p := range pts {
		if !p.Banded || !mcFinite(p.Lo) || !mcFinite(p.Hi) {
			continue
		}
		sc.banded = true
		see(p.Lo)
		if top > 0 && p.Hi > mcBandCap*top {
			sc.clipped = true
			see(mcBandCap * top)
			continue
		}
		see(p.Hi)
	}
	switch {
	case math.IsInf(lo, 1) || (lo == 0 && hi == 0): // nothing to scale, or all zero
		sc.ymin, sc.ymax = 0, 1
		return sc
	case lo == hi:
		pad := math.Abs(lo) * 0.1
		lo, hi = lo-pad, hi+pad
	}
	if lo > 0 { // a level is read against zero: a flat line at 400MB is stable, not noise
		lo = 0
	}
	if lo == 0 {
		hi = mcNiceCeil(hi * 1.04) // headroom, and a top label worth reading
	} else {
		hi += (hi - lo) * 0.08
	}
	sc.ymin, sc.ymax = lo, hi
	return sc
}

func (s metricScale) x(t time.Time) float64 {
	span := s.t1.Sub(s.t0)
	if span <= 0 {
		return (mcLeft + mcRight) / 2
	}
	return mcLeft + float64(mcRight-mcLeft)*float64(t.Sub(s.t0))/float64(span)
}

// y maps v into the plot area, cut at its edges.
func (s metricScale) y(v float64) float64 {
	f := (v - s.ymin) / (s.ymax - s.ymin)
	return mcBottom - float64(mcBottom-mcTop)*math.Max(0, math.Min(1, f))
}

// mcNiceCeil is the smallest 1, 2, 2.5 or 5 times a power of ten at or
// above v > 0.
func mcNiceCeil(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*e >= v*(1-1e-12) {
			return m * e
		}
	}
	return 10 * e
}

// mcSorted is a copy of pts sorted by time (stable for equal times).
func mcSorted(pts []MetricPoint) []MetricPoint {
	out := slices.Clone(pts)
	slices.SortStableFunc(out, func(a, b MetricPoint) int { return a.At.Compare(b.At) })
	return out
}

// mcRuns splits pts into maximal runs of consecutive points that pass ok.
func mcRuns(pts []MetricPoint, ok func(MetricPoint) bool) [][]MetricPoint {
	var out [][]MetricPoint
	start := -1
	for i := 0; i <= len(pts); i++ {
		if i < len(pts) && ok(pts[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, pts[start:i])
			start = -1
		}
	}
	return out
}

func mcFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// mcNum prints a coordinate with one decimal.
func mcNum(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// mcEsc escapes text for SVG content and attributes.
func mcEsc(s string) string { return html.EscapeString(s) }

// mcPlain prints v with 3 significant digits and its unit: "182 ms".
func mcPlain(v float64, unit string) string {
	s := strconv.FormatFloat(v, 'g', 3, 64)
	if math.Abs(v) >= 1000 && math.Abs(v) < 1e15 {
		s = strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	switch unit {
	case "":
		return s
	case "%":
		return s + "%"
	}
	return s + " " + unit
}
