package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/granter/runbook/fixtures/prom"
	"github.com/granter/runbook/internal/metrics"
)

const window = time.Minute

// TestErrorRate is Step 4.5, "Error Rate should be < 0.1%", and the
// rollback trigger, "> 1% error rate", read from real scraped traffic.
func TestErrorRate(t *testing.T) {
	t.Parallel() // each test has its own Prometheus and services
	failing := startService(t, "errors-2pct")
	healthy := startService(t, "healthy")
	idle := startService(t, "idle")
	p := startPlatform(t, prom.Config{}, failing, healthy, idle)

	const total, failures = 400, 8 // 2%
	failing.traffic(t, total, failures)
	healthy.traffic(t, total, 0)
	p.waitCount(t, "http_requests_total", failing, total)
	p.waitCount(t, "http_requests_total", healthy, total)

	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	th := metrics.RunbookThresholds()

	t.Run("monitoring_enabled_every_target_up", func(t *testing.T) {
		if _, err := p.m.Targets(ctx, failing.Name, healthy.Name, idle.Name); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("2%_errors_is_above_the_0.1%_threshold", func(t *testing.T) {
		r, err := p.m.ErrorRate(ctx, failing.Selector(), window, 100)
		if err != nil {
			t.Fatal(err)
		}
		want := float64(failures) / total
		// Both series are scraped at the same instants and start at zero,
		// so rate() extrapolates them alike and the ratio is the sent one;
		// allow one request's worth.
		if tol := 1.0 / total; math.Abs(r.Value-want) > tol {
			t.Errorf("error rate: expected %.4f ± %.4f (%d of %d sent), seen %.4f (%s)", want, tol, failures, total, r.Value, r)
		}
		if r.Requests < total || r.Errors < failures {
			t.Errorf("counts: expected at least %d requests and %d errors, seen %.1f and %.1f", total, failures, r.Requests, r.Errors)
		}
		err = metrics.CheckBelow(r.Measurement, th.ErrorRateWarning)
		var te *metrics.ThresholdError
		if !errors.As(err, &te) {
			t.Fatalf("expected a ThresholdError, seen %v", err)
		}
		msg := err.Error()
		for _, part := range []string{"error rate 2.00%", "query: " + r.Query, "window 1m", "requests)", "above threshold 0.10%"} {
			if !strings.Contains(msg, part) {
				t.Errorf("message %q: expected it to contain %q", msg, part)
			}
		}
		t.Log(msg)
	})

	t.Run("2%_errors_trips_the_1%_rollback_trigger", func(t *testing.T) {
		r, err := p.m.ErrorRate(ctx, failing.Selector(), window, 100)
		if err != nil {
			t.Fatal(err)
		}
		if err := metrics.CheckAtMost(r.Measurement, th.ErrorRateCritical); err == nil || !strings.Contains(err.Error(), "above threshold 1.00%") {
			t.Fatalf("expected the rollback trigger to fire (above threshold 1.00%%), seen %v", err)
		}
	})

	t.Run("healthy_traffic_passes", func(t *testing.T) {
		r, err := p.m.ErrorRate(ctx, healthy.Selector(), window, 100)
		if err != nil {
			t.Fatal(err)
		}
		if r.Value != 0 {
			t.Errorf("expected 0 errors, seen %s", r)
		}
		if err := metrics.CheckBelow(r.Measurement, th.ErrorRateWarning); err != nil {
			t.Fatalf("healthy service reported unhealthy: %v", err)
		}
	})

	t.Run("no_traffic_is_no_data_never_healthy", func(t *testing.T) {
		r, err := p.m.ErrorRate(ctx, idle.Selector(), window, 100)
		if !errors.Is(err, metrics.ErrNoData) {
			t.Fatalf("expected ErrNoData, seen %v (value %s)", err, r)
		}
		if want := "no data: 0 requests in 1m (need >= 100)"; !strings.Contains(err.Error(), want) {
			t.Errorf("message %q: expected it to contain %q", err, want)
		}
	})

	t.Run("too_little_traffic_is_no_data", func(t *testing.T) {
		_, err := p.m.ErrorRate(ctx, healthy.Selector(), window, 100000)
		var nd *metrics.NoDataError
		if !errors.As(err, &nd) || nd.Requests < total || !strings.Contains(err.Error(), "(need >= 100000)") {
			t.Fatalf("expected no data naming about %d requests and the minimum, seen %v", total, err)
		}
	})

	t.Run("unknown_service_is_no_data", func(t *testing.T) {
		if _, err := p.m.ErrorRate(ctx, `job="no-such-service"`, window, 1); !errors.Is(err, metrics.ErrNoData) {
			t.Fatalf("expected ErrNoData, seen %v", err)
		}
	})

	t.Run("a_broken_selector_is_a_query_error_not_no_data", func(t *testing.T) {
		_, err := p.m.ErrorRate(ctx, `job=`, window, 1)
		var qe *metrics.QueryError
		if !errors.As(err, &qe) || errors.Is(err, metrics.ErrNoData) {
			t.Fatalf("expected a QueryError, seen %v", err)
		}
	})

	t.Run("range_query_shows_the_traffic", func(t *testing.T) {
		end := time.Now()
		rr, err := p.m.Range(ctx, fmt.Sprintf("sum(http_requests_total{%s})", failing.Selector()), end.Add(-30*time.Second), end, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(rr.Series) != 1 || len(rr.Series[0].Points) < 2 {
			t.Fatalf("expected one series with points, seen %+v", rr.Series)
		}
		pts := rr.Series[0].Points
		if first, last := pts[0].Value, pts[len(pts)-1].Value; first != 0 || last != total {
			t.Errorf("expected the count to go from 0 to %d, seen %g to %g", total, first, last)
		}
	})

	t.Run("cpu_and_memory_series_are_read", func(t *testing.T) {
		mem, err := p.m.Series(ctx, metrics.MemoryExpr(healthy.Selector()))
		if err != nil {
			t.Fatal(err)
		}
		if v := mem.By("service")[healthy.Name]; v <= 0 {
			t.Errorf("resident memory of %s: expected > 0 bytes, seen %g (%s)", healthy.Name, v, mem)
		}
		cpu, err := p.m.Series(ctx, metrics.CPUExpr(healthy.Selector(), window))
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := cpu.By("service")[healthy.Name]; !ok || v < 0 {
			t.Errorf("cpu of %s: expected a rate >= 0, seen %v (%s)", healthy.Name, v, cpu)
		}
		if _, err := p.m.Series(ctx, metrics.MemoryExpr(`job="no-such-service"`)); !errors.Is(err, metrics.ErrNoData) {
			t.Errorf("series of an unknown service: expected ErrNoData, seen %v", err)
		}
	})
}

// TestLatencyP95 is the monitoring line "API response time: < 200ms (p95)".
func TestLatencyP95(t *testing.T) {
	t.Parallel() // each test has its own Prometheus and services
	slow := startService(t, "slow")
	fast := startService(t, "fast")
	p := startPlatform(t, prom.Config{}, slow, fast)

	// 10% of slow's requests take 300ms, so its p95 is in the (0.25s, 0.5s]
	// bucket; fast answers at once.
	slow.send(t, "/ok", 90, 4, 200)
	slow.send(t, "/slow?ms=300", 10, 10, 200)
	fast.send(t, "/ok", 100, 4, 200)
	p.waitCount(t, "http_request_duration_seconds_count", slow, 100)
	p.waitCount(t, "http_request_duration_seconds_count", fast, 100)

	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	limit := metrics.RunbookThresholds().LatencyP95.Seconds()

	t.Run("slow_handler_is_above_200ms", func(t *testing.T) {
		l, err := p.m.LatencyP95(ctx, slow.Selector(), window, 50)
		if err != nil {
			t.Fatal(err)
		}
		if l.Value <= 0.25 || l.Value > 0.5 {
			t.Errorf("p95: expected in (250ms, 500ms] (10 of 100 requests took 300ms), seen %s", l)
		}
		err = metrics.CheckBelow(l.Measurement, limit)
		if err == nil || !strings.Contains(err.Error(), "latency p95") || !strings.Contains(err.Error(), "above threshold 200ms") {
			t.Fatalf("expected latency p95 above threshold 200ms, seen %v", err)
		}
		t.Log(err)
	})

	t.Run("fast_handler_passes", func(t *testing.T) {
		l, err := p.m.LatencyP95(ctx, fast.Selector(), window, 50)
		if err != nil {
			t.Fatal(err)
		}
		if err := metrics.CheckBelow(l.Measurement, limit); err != nil {
			t.Fatalf("fast service reported slow: %v", err)
		}
	})

	t.Run("no_traffic_is_no_data", func(t *testing.T) {
		if _, err := p.m.LatencyP95(ctx, `job="no-such-service"`, window, 1); !errors.Is(err, metrics.ErrNoData) {
			t.Fatalf("expected ErrNoData, seen %v", err)
		}
	})
}

// TestTargets is checklist item 2, "Monitoring enabled": a target that
// cannot be scraped is named with its job, URL and last error.
func TestTargets(t *testing.T) {
	t.Parallel() // each test has its own Prometheus and services
	live := startService(t, "live")
	deadURL := closedPortURL(t)
	p := startPlatform(t, prom.Config{Targets: []prom.Target{{Job: "dead", Service: "dead", URL: deadURL}}}, live)

	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	var terr *metrics.TargetsError
	eventually(t, ctx, "the dead target to be reported down with its scrape error", func() (bool, string) {
		_, err := p.m.Targets(ctx)
		if !errors.As(err, &terr) {
			return false, fmt.Sprint(err)
		}
		return len(terr.Down) == 1 && terr.Down[0].Health == "down" && terr.Down[0].LastError != "", err.Error()
	})
	msg := terr.Error()
	for _, part := range []string{"job=dead", deadURL, "health=down", "connection refused"} {
		if !strings.Contains(msg, part) {
			t.Errorf("message %q: expected it to contain %q", msg, part)
		}
	}
	if strings.Contains(msg, "job=live") {
		t.Errorf("message %q names the live target as down", msg)
	}
	t.Log(msg)

	t.Run("a_service_without_a_target_is_named", func(t *testing.T) {
		_, err := p.m.Targets(ctx, "live", "data-service")
		if !errors.As(err, &terr) || !slices.Contains(terr.Missing, "data-service") || slices.Contains(terr.Missing, "live") {
			t.Fatalf("expected data-service named as missing (and live not), seen %v", err)
		}
	})
}

// TestRules is checklist item 7, "Alert thresholds set": the loaded rules
// carry the runbook's numbers, and a wrong or missing rule is caught.
func TestRules(t *testing.T) {
	t.Parallel() // each test has its own Prometheus and services
	want := metrics.RunbookThresholds().Alerts()

	t.Run("loaded_thresholds_equal_the_runbook's", func(t *testing.T) {
		p := startPlatform(t, prom.Config{})
		loaded, err := p.m.RuleThresholds(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(loaded) != len(want) {
			t.Fatalf("expected %d alert rules, seen %d: %+v", len(want), len(loaded), loaded)
		}
		for _, r := range loaded {
			if r.Op != ">" || r.Threshold != want[r.Name] {
				t.Errorf("rule %s: expected > %g, seen %s %g (expr %s)", r.Name, want[r.Name], r.Op, r.Threshold, r.Expr)
			}
			if r.Labels["severity"] == "" || !strings.Contains(r.Annotations["summary"], "above") {
				t.Errorf("rule %s: expected a severity label and a summary naming the threshold, seen %v %v", r.Name, r.Labels, r.Annotations)
			}
		}
		if err := metrics.CheckRuleThresholds(loaded, want); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a_wrong_threshold_is_caught", func(t *testing.T) {
		p := startPlatform(t, prom.Config{Thresholds: prom.Thresholds{ErrorRateCritical: 0.05}})
		loaded, err := p.m.RuleThresholds(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		err = metrics.CheckRuleThresholds(loaded, want)
		var re *metrics.RuleThresholdsError
		if !errors.As(err, &re) || len(re.Problems) != 1 ||
			!strings.Contains(err.Error(), metrics.AlertErrorRateCritical) || !strings.Contains(err.Error(), "threshold 0.05 loaded, runbook says 0.01") {
			t.Fatalf("expected exactly the critical rule named with 0.05 loaded vs 0.01, seen %v", err)
		}
		t.Log(err)
	})

	t.Run("a_missing_rule_is_caught", func(t *testing.T) {
		only := fmt.Sprintf("groups:\n- name: partial\n  rules:\n  - alert: %s\n    expr: %s > 0.001\n",
			metrics.AlertErrorRateWarning, metrics.ServiceErrorRatioExpr(window))
		p := startPlatform(t, prom.Config{RulesYAML: []byte(only)})
		loaded, err := p.m.RuleThresholds(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		err = metrics.CheckRuleThresholds(loaded, want)
		if err == nil || !strings.Contains(err.Error(), "alert rule "+metrics.AlertErrorRateCritical+" not loaded") {
			t.Fatalf("expected the critical rule named as not loaded, seen %v", err)
		}
	})
}

// TestAlerts is the rollback trigger as an alert: the critical alert fires
// when the error rate exceeds 1%, and not for a healthy service ("No
// critical alerts triggered").
func TestAlerts(t *testing.T) {
	t.Parallel() // each test has its own Prometheus and services
	failing := startService(t, "failing")
	healthy := startService(t, "healthy")
	p := startPlatform(t, prom.Config{}, failing, healthy)

	failing.traffic(t, 400, 8) // 2%
	healthy.traffic(t, 400, 0)
	p.waitCount(t, "http_requests_total", failing, 400)
	p.waitCount(t, "http_requests_total", healthy, 400)
	visible := time.Now()

	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	var firing []metrics.Alert
	eventually(t, ctx, metrics.AlertErrorRateCritical+" firing for "+failing.Name, func() (bool, string) {
		var err error
		if firing, err = p.m.FiringAlerts(ctx, metrics.SeverityCritical); err != nil {
			return false, err.Error()
		}
		for _, a := range firing {
			if a.Name == metrics.AlertErrorRateCritical && a.Labels["service"] == failing.Name {
				return true, a.String()
			}
		}
		return false, fmt.Sprint(firing)
	})
	err := metrics.CheckNoneFiring(firing)
	if err == nil || !strings.Contains(err.Error(), metrics.AlertErrorRateCritical) || !strings.Contains(err.Error(), "above 1.00%") {
		t.Fatalf("expected the firing critical alert named with its summary, seen %v", err)
	}
	t.Log(err)

	t.Run("healthy_service_raises_no_alert", func(t *testing.T) {
		if err := p.prom.WaitEvaluated(ctx, visible); err != nil {
			t.Fatal(err)
		}
		all, err := p.m.FiringAlerts(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range all {
			if a.Labels["service"] == healthy.Name {
				t.Errorf("healthy service has a firing alert: %s", a)
			}
		}
	})
}

// closedPortURL is a metrics URL on 127.0.0.1 where nothing listens.
func closedPortURL(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/metrics"
}

func BenchmarkErrorRateQuery(b *testing.B) {
	svc := startService(b, "bench")
	p := startPlatform(b, prom.Config{}, svc)
	svc.traffic(b, 200, 4)
	p.waitCount(b, "http_requests_total", svc, 200)
	ctx := b.Context()
	for b.Loop() {
		if _, err := p.m.ErrorRate(ctx, svc.Selector(), window, 100); err != nil {
			b.Fatal(err)
		}
	}
}
