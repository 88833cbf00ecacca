package report

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

var mcStart = time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC)

func mcRatio(v float64) string { return fmt.Sprintf("%.2f%%", v*100) }

func mcLimit(v float64) *float64 { return &v }

// mcSVGOK fails the test when the chart is not well-formed XML or holds a
// coordinate that is not a number.
func mcSVGOK(t *testing.T, svg string) {
	t.Helper()
	if !strings.HasPrefix(svg, "<svg ") || !strings.HasSuffix(svg, "</svg>") {
		t.Errorf("not one <svg> element: %.80q…", svg)
	}
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v\n%s", err, svg)
		}
	}
	for _, bad := range []string{"NaN", "Inf"} {
		if strings.Contains(svg, bad) {
			t.Errorf("chart holds %q:\n%s", bad, svg)
		}
	}
}

// mcAttr returns the values of attribute name on elements with class.
func mcAttr(svg, class, name string) []string {
	re := regexp.MustCompile(`<[a-z]+ class="` + regexp.QuoteMeta(class) + `"[^>]*? ` + name + `="([^"]*)"`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestMetricChartErrorRate(t *testing.T) {
	c := MetricChart{Title: "Error rate, all services", Format: mcRatio, Threshold: mcLimit(0.001)}
	for i, v := range []float64{0, 0, 0.0002, 0.0015, 0} {
		c.Points = append(c.Points, MetricPoint{At: mcStart.Add(time.Duration(i) * time.Minute), Value: v, Lo: v / 2, Hi: v + 0.0009, Banded: true})
	}
	svg := MetricChartSVG(c)
	mcSVGOK(t, svg)

	th := mcAttr(svg, "threshold", "y1")
	if len(th) != 1 {
		t.Fatalf("want one threshold line, got %d:\n%s", len(th), svg)
	}
	var y float64
	if _, err := fmt.Sscan(th[0], &y); err != nil {
		t.Fatalf("threshold line y1=%q: %v", th[0], err)
	}
	if y <= mcTop || y >= mcBottom {
		t.Errorf("threshold line at y=%g, outside the plot (%d..%d)", y, mcTop, mcBottom)
	}
	if bands := mcAttr(svg, "band", "points"); len(bands) != 1 || len(strings.Fields(bands[0])) != 10 {
		t.Errorf("want one band polygon through 5 upper and 5 lower corners, got %q", bands)
	}
	if lines := mcAttr(svg, "value", "points"); len(lines) != 1 || len(strings.Fields(lines[0])) != 5 {
		t.Errorf("want one line through the 5 points, got %q", lines)
	}
	if over := mcAttr(svg, "point over", "cx"); len(over) != 1 {
		t.Errorf("want the one value over 0.10%% marked, got %d marks", len(over))
	}
	for _, want := range []string{"limit 0.10%", ">0.00%<", "15:00:00", "15:02:00", "15:04:00 UTC", "shaded: between the 95% bounds (each one-sided)"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q:\n%s", want, svg)
		}
	}
}

func TestMetricChartEscapes(t *testing.T) {
	svg := MetricChartSVG(MetricChart{
		Title:  `p95 <script>alert("x")</script> & "routes"`,
		Unit:   "<ms>",
		Points: []MetricPoint{{At: mcStart, Value: 120}, {At: mcStart.Add(time.Minute), Value: 140}},
	})
	mcSVGOK(t, svg)
	if strings.Contains(svg, "<script") || strings.Contains(svg, "<ms>") {
		t.Errorf("unescaped text in the chart:\n%s", svg)
	}
	for _, want := range []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;routes&#34;", "140 &lt;ms&gt;"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks the escaped %q:\n%s", want, svg)
		}
	}
}

func TestMetricChartDegenerate(t *testing.T) {
	equal := func(v float64) []MetricPoint {
		var pts []MetricPoint
		for i := range 4 {
			pts = append(pts, MetricPoint{At: mcStart.Add(time.Duration(i) * time.Minute), Value: v})
		}
		return pts
	}
	cases := []struct {
		name      string
		c         MetricChart
		want      []string
		lines     int
		threshold bool
	}{
		{"no points", MetricChart{Title: "CPU", Unit: "%", Threshold: mcLimit(70)}, []string{">no data<", "limit 70%"}, 0, true},
		{"no points, no threshold", MetricChart{Title: "Memory", Unit: "MB"}, []string{">no data<", ">0 MB<"}, 0, false},
		{"one point", MetricChart{Title: "CPU", Unit: "%", Points: []MetricPoint{{At: mcStart, Value: 38}}},
			[]string{`class="point" cx="271.0"`, "15:00:00 UTC"}, 0, false},
		{"one banded point", MetricChart{Title: "Error rate", Format: mcRatio, Threshold: mcLimit(0.001),
			Points: []MetricPoint{{At: mcStart, Value: 0, Lo: 0, Hi: 0.0102, Banded: true}}},
			[]string{`class="band"`, "band cut above"}, 0, true},
		{"all zero", MetricChart{Title: "Connections", Points: equal(0)}, []string{">0<", ">0.5<", ">1<"}, 1, false},
		{"all equal", MetricChart{Title: "Memory", Unit: "MB", Points: equal(400)}, []string{">0 MB<", ">250 MB<", ">500 MB<"}, 1, false},
		{"all at one time", MetricChart{Title: "CPU", Points: []MetricPoint{{At: mcStart, Value: 1}, {At: mcStart, Value: 2}}},
			[]string{"15:00:00 UTC"}, 1, false},
		{"a gap", MetricChart{Title: "p95", Unit: "ms", Points: []MetricPoint{
			{At: mcStart, Value: 120}, {At: mcStart.Add(time.Minute), Value: 130},
			{At: mcStart.Add(2 * time.Minute), Value: math.NaN()},
			{At: mcStart.Add(3 * time.Minute), Value: 125}, {At: mcStart.Add(4 * time.Minute), Value: 128},
		}}, []string{"gaps: no data"}, 2, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svg := MetricChartSVG(c.c)
			mcSVGOK(t, svg)
			for _, want := range c.want {
				if !strings.Contains(svg, want) {
					t.Errorf("chart lacks %q:\n%s", want, svg)
				}
			}
			if got := len(mcAttr(svg, "value", "points")); got != c.lines {
				t.Errorf("%d value lines, want %d:\n%s", got, c.lines, svg)
			}
			if got := len(mcAttr(svg, "threshold", "y1")) == 1; got != c.threshold {
				t.Errorf("threshold line drawn: %v, want %v", got, c.threshold)
			}
		})
	}
}

// Points arrive in any order; the line runs in time order.
func TestMetricChartSortsPoints(t *testing.T) {
	svg := MetricChartSVG(MetricChart{Title: "CPU", Points: []MetricPoint{
		{At: mcStart.Add(2 * time.Minute), Value: 3}, {At: mcStart, Value: 1}, {At: mcStart.Add(time.Minute), Value: 2},
	}})
	mcSVGOK(t, svg)
	lines := mcAttr(svg, "value", "points")
	if len(lines) != 1 {
		t.Fatalf("want one line, got %q", lines)
	}
	var last float64 = -1
	for _, xy := range strings.Fields(lines[0]) {
		var x, y float64
		if _, err := fmt.Sscanf(xy, "%g,%g", &x, &y); err != nil {
			t.Fatalf("line point %q: %v", xy, err)
		}
		if x <= last {
			t.Errorf("line goes back in time at %s: %s", xy, lines[0])
		}
		last = x
	}
}
