package metrics_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/granter/runbook/internal/metrics"
)

func TestExtractThreshold(t *testing.T) {
	for _, tc := range []struct {
		expr string
		op   string
		v    float64
	}{
		{`sum by (service) (rate(a[1m])) / sum by (service) (rate(b[1m])) > 0.01`, ">", 0.01},
		{`histogram_quantile(0.95, sum by (service, le) (rate(x_bucket[1m]))) > 0.2`, ">", 0.2},
		{`x >= bool 1e-03`, ">=", 0.001},
		{`(x > 3) < 5`, "<", 5},
		{`x != 2`, "!=", 2},
	} {
		op, v, err := metrics.ExtractThreshold(tc.expr)
		if err != nil || op != tc.op || v != tc.v {
			t.Errorf("%s: expected %s %g, seen %s %g (%v)", tc.expr, tc.op, tc.v, op, v, err)
		}
	}
	if _, v, err := metrics.ExtractThreshold(`absent(up)`); err == nil || !math.IsNaN(v) {
		t.Errorf("absent(up): expected an error, seen %g %v", v, err)
	}
}

func TestCheckRuleThresholds(t *testing.T) {
	want := metrics.RunbookThresholds().Alerts()
	var good []metrics.RuleThreshold
	for _, r := range metrics.AlertRules(metrics.RunbookThresholds(), time.Minute, 0) {
		op, v, err := metrics.ExtractThreshold(r.Expr)
		if err != nil {
			t.Fatal(err)
		}
		good = append(good, metrics.RuleThreshold{AlertRule: metrics.AlertRule{Name: r.Alert, Expr: r.Expr, Health: "ok"}, Op: op, Threshold: v})
	}
	if err := metrics.CheckRuleThresholds(good, want); err != nil {
		t.Fatalf("generated rules: %v", err)
	}
	bad := append([]metrics.RuleThreshold(nil), good...)
	bad[2].Op, bad[2].Health, bad[2].LastError = "<", "err", "boom"
	err := metrics.CheckRuleThresholds(bad, want)
	if err == nil || !strings.Contains(err.Error(), `compares with "<"`) || !strings.Contains(err.Error(), "fails to evaluate: boom") {
		t.Fatalf("expected the wrong comparison and the failing rule, seen %v", err)
	}
}

func TestChecks(t *testing.T) {
	m := metrics.Measurement{Name: "error rate", Query: "q", Window: 5 * time.Minute, Value: 0.001, Unit: metrics.Ratio, Requests: 5000}
	if err := metrics.CheckBelow(m, 0.001); err == nil || !strings.Contains(err.Error(), "at (must be below) threshold 0.10%") {
		t.Errorf("value at the threshold: expected a failure, seen %v", err)
	}
	if err := metrics.CheckAtMost(m, 0.001); err != nil {
		t.Errorf("rollback trigger is '> 1%%': at the threshold must pass, seen %v", err)
	}
	m.Value = math.NaN()
	if err := metrics.CheckBelow(m, 0.001); !errors.Is(err, metrics.ErrNoData) {
		t.Errorf("NaN: expected ErrNoData, seen %v", err)
	}
}

func TestQueries(t *testing.T) {
	got := metrics.ErrorRatioExpr(`{namespace="granter"}`, 5*time.Minute)
	want := `(sum(rate(http_requests_total{status=~"5..",namespace="granter"}[5m])) or vector(0)) / sum(rate(http_requests_total{namespace="granter"}[5m]))`
	if got != want {
		t.Errorf("ErrorRatioExpr:\nexpected %s\nseen     %s", want, got)
	}
	if got, want := metrics.RequestCountExpr("", 90*time.Second), `sum(increase(http_requests_total{}[1m30s]))`; got != want {
		t.Errorf("RequestCountExpr: expected %s, seen %s", want, got)
	}
}

// A failed check prints the measurement, its query, window, request count
// and the threshold.
func ExampleCheckBelow() {
	r := metrics.Measurement{
		Name:     "error rate",
		Query:    metrics.ErrorRatioExpr(`service="backend-core"`, 5*time.Minute),
		Window:   5 * time.Minute,
		Value:    0.0231,
		Unit:     metrics.Ratio,
		Requests: 1204,
	}
	fmt.Println(metrics.CheckBelow(r, metrics.RunbookThresholds().ErrorRateWarning))
	// Output:
	// error rate 2.31% (query: (sum(rate(http_requests_total{status=~"5..",service="backend-core"}[5m])) or vector(0)) / sum(rate(http_requests_total{service="backend-core"}[5m])), window 5m, 1204 requests) above threshold 0.10%
}

// TestCountersSince: the rise is taken series by series, so a process
// that restarted or went away is not taken for counts.
func TestCountersSince(t *testing.T) {
	before := metrics.Counters{"a": 10, "b": 5}
	for _, c := range []struct {
		name string
		now  metrics.Counters
		want float64
	}{
		{"both rose", metrics.Counters{"a": 12, "b": 6}, 3},
		{"b restarted and counted 2", metrics.Counters{"a": 10, "b": 2}, 2},
		{"b went away (its sum fell)", metrics.Counters{"a": 10}, 0},
		{"a new series", metrics.Counters{"a": 10, "b": 5, "c": 4}, 4},
		{"nothing at all", metrics.Counters{}, 0},
	} {
		if got := c.now.Since(before); got != c.want {
			t.Errorf("%s: Since = %g, want %g", c.name, got, c.want)
		}
	}
}
