package monitor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/stats"
	"github.com/granter/runbook/smoke/auth"
	"github.com/granter/runbook/smoke/search"
)

// Journal Data keys of the checks (internal/report reads them: any key K
// with a K.threshold is checked as K < K.threshold).
const (
	keyErrorRate   = "error_rate"
	keyP95         = "p95"
	keyDBQuery     = "db.query"
	keyMemory      = "memory.growth"
	keyCPU         = "cpu"
	keyConnections = "connections"
	keyAlerts      = "alerts.critical"
	keySmoke       = "smoke."
)

// DBQueryMetric is the services' histogram of one database query.
const DBQueryMetric = metrics.DBQueryDuration

// errorRate: "Error rate: < 0.1%", decided from the round's counts: ok
// (MET) only when the 95% upper bound is under the threshold, BREACH when
// the lower bound is over it, INCONCLUSIVE (failing the round, with the
// requests still needed) in between. A service without requests in the
// window is NO DATA, never absorbed into the sum.
func (m *Monitor) errorRate(ctx context.Context, w time.Duration) Check {
	c := Check{Metric: MetricErrorRate, Key: keyErrorRate, Source: "prometheus", Window: w, Value: math.NaN(),
		Threshold: m.tgt.Thresholds.ErrorRate, ThresholdShown: "< " + pct(m.tgt.Thresholds.ErrorRate)}
	if m.prom == nil {
		return skip(c, "the target has no Prometheus (prometheus.url)")
	}
	r, err := m.prom.ErrorRate(ctx, metrics.UserRequests(m.sel), w, 1)
	c.Query = r.Query
	if err != nil {
		return noData(c, err)
	}
	c.Detail = fmt.Sprintf("%.0f requests, %.0f answered 5xx; per service: %s", r.Requests, r.Errors, r.PerService())
	if missing := r.MissingServices(m.tgt.ServiceNames()); len(missing) > 0 {
		return noData(c, fmt.Errorf("no request from %s in %s (%s)", strings.Join(missing, ", "), short(w), r.ByServiceQuery))
	}
	res := r.Under(c.Threshold)
	c.Rate = &res
	c.Value, c.Shown = r.Value, strings.TrimPrefix(res.String(), res.Name+" ")
	switch res.Verdict {
	case stats.Met:
		c.Status = Pass
	case stats.Breached:
		c.Status, c.Err = Breach, errors.New(res.String())
	default:
		c.Status, c.Err = Inconclusive, errors.New(res.String())
	}
	return c
}

// p95: "API response time: < 200ms (p95)", per service and per route from
// the latency histograms: the p95 with the bucket that holds it (the
// resolution), and the claim decided from the counts (stats.QuantileUnder:
// fewer than 5% of requests slower than the limit, on the 95% bound).
// BREACH when any service, or any route with enough requests for a p95, is
// shown over; ok when every service is shown under; otherwise
// INCONCLUSIVE. A service with fewer requests than a p95 needs (59) is NO
// DATA; such a route is listed as not judged alone (its requests count in
// its service's p95).
func (m *Monitor) p95(ctx context.Context, w time.Duration) Check {
	th := m.tgt.Thresholds.APIP95.Seconds()
	c := Check{Metric: MetricP95, Key: keyP95, Source: "prometheus", Window: w, Value: math.NaN(),
		Threshold: th, ThresholdShown: "< " + ms(th)}
	if m.prom == nil {
		return skip(c, "the target has no Prometheus (prometheus.url)")
	}
	h, err := m.prom.LatencyHistograms(ctx, metrics.UserRequests(m.sel), w)
	c.Query = h.Query
	if err != nil {
		return noData(c, err)
	}
	var parts, noSample, undecided, breached []string
	for _, svc := range m.tgt.ServiceNames() {
		q, res, err := p95Under(h.Service[svc], th)
		if err != nil {
			noSample = append(noSample, svc+": "+err.Error())
			continue
		}
		if math.IsNaN(c.Value) || q.Value > c.Value {
			c.Value = q.Value
		}
		parts = append(parts, fmt.Sprintf("%s %s: %s", svc, q, res.Verdict))
		switch res.Verdict {
		case stats.Breached:
			breached = append(breached, svc+" "+res.String())
		case stats.Inconclusive:
			undecided = append(undecided, svc+" "+res.String())
		}
	}
	// Per route too, so a slow route cannot hide in its service's mix: a
	// route with enough requests for a p95 that is shown over the limit
	// is a breach; one with fewer is listed as not judged.
	var routes, unjudged []string
	for _, svc := range m.tgt.ServiceNames() {
		for _, r := range slices.Sorted(maps.Keys(h.Route[svc])) {
			q, res, err := p95Under(h.Route[svc][r], th)
			if err != nil {
				unjudged = append(unjudged, svc+" "+r)
				continue
			}
			routes = append(routes, fmt.Sprintf("%s %s %s: %s", svc, r, q, res.Verdict))
			if res.Verdict == stats.Breached {
				breached = append(breached, svc+" "+r+" "+res.String())
			}
		}
	}
	if len(routes) > 0 {
		parts = append(parts, "routes: "+strings.Join(routes, "; "))
	}
	if len(unjudged) > 0 {
		parts = append(parts, fmt.Sprintf("routes with fewer than %d requests, not judged alone: %s", stats.MinQuantileCount(0.95), strings.Join(unjudged, ", ")))
	}
	c.Detail = strings.Join(parts, "; ")
	if len(noSample) > 0 {
		return noData(c, fmt.Errorf("no p95 for %s", strings.Join(noSample, "; ")))
	}
	c.Shown = ms(c.Value) + " (worst service)"
	switch {
	case len(breached) > 0:
		c.Status, c.Err = Breach, errors.New(strings.Join(breached, "; "))
	case len(undecided) > 0:
		c.Status, c.Err = Inconclusive, errors.New(strings.Join(undecided, "; "))
	default:
		c.Status = Pass
	}
	return c
}

// p95Under reads the p95 of one histogram (a service's or a route's) and
// decides "p95 < limit" from the same buckets; an error when there are
// too few requests for a p95.
func p95Under(b []stats.Bucket, limit float64) (stats.Quantile, stats.Result, error) {
	q, err := stats.HistogramQuantile(0.95, b)
	if err != nil {
		return q, stats.Result{}, err
	}
	res, err := stats.QuantileUnder(0.95, b, limit)
	return q, res, err
}

// cpu: "CPU usage: < 70%", per service, of the CPU each pod may use.
func (m *Monitor) cpu(ctx context.Context, w time.Duration) Check {
	c := Check{Metric: MetricCPU, Key: keyCPU, Source: "prometheus", Window: w, Value: math.NaN(),
		Threshold: m.tgt.Thresholds.CPU, ThresholdShown: "< " + pct(m.tgt.Thresholds.CPU)}
	if m.prom == nil {
		return skip(c, "the target has no Prometheus (prometheus.url)")
	}
	c.Query = metrics.CPUExpr(m.sel, w)
	res, err := m.prom.Instant(ctx, c.Query)
	if err != nil {
		return noData(c, err)
	}
	by := res.By("service")
	if len(by) == 0 {
		return noData(c, fmt.Errorf("no series: no service exports %s", metrics.CPUSeconds))
	}
	worst, parts := -1.0, []string{}
	for _, svc := range sortedKeys(by) {
		cores := by[svc]
		capacity := m.cpuCapacity(svc)
		share := cores / capacity
		parts = append(parts, fmt.Sprintf("%s %s (%.3f of %g cores)", svc, pct(share), cores, capacity))
		if math.IsNaN(share) || share > worst {
			worst = share
		}
	}
	c.Value, c.Shown, c.Status = worst, pct(worst), below(worst, c.Threshold)
	c.Detail = strings.Join(parts, ", ")
	return c
}

// cpuCapacity is the CPU a service may use: its pods' CPU limit when the
// target's cluster says it, else Options.CPUCores, else one core.
func (m *Monitor) cpuCapacity(service string) float64 {
	if c := m.cpuLimits[service]; c > 0 {
		return c
	}
	if m.opts.CPUCores > 0 {
		return m.opts.CPUCores
	}
	return 1
}

// memory: "Memory usage: stable": no sustained growth. A least-squares
// line through each service's resident memory since the watch began; its
// slope, projected over the whole watch, must stay under
// Options.MemoryGrowth of the mean. It is judged once the watch has a
// quarter of its length behind it (projecting further than 4x is guessing:
// the runbook's watch judges memory from hour 1), and a line that explains
// less than half the variance (r² < 0.5) is GC noise, not growth.
func (m *Monitor) memory(ctx context.Context, now time.Time) Check {
	th := m.opts.MemoryGrowth
	total := m.opts.Schedule.Total()
	c := Check{Metric: MetricMemory, Key: keyMemory, Source: "prometheus", Value: math.NaN(),
		Threshold: th, ThresholdShown: fmt.Sprintf("< %s growth over the %s watch", pct(th), short(total))}
	if m.prom == nil {
		return skip(c, "the target has no Prometheus (prometheus.url)")
	}
	start := m.started
	if now.Sub(start) > time.Hour {
		start = now.Add(-time.Hour)
	}
	c.Window = now.Sub(start).Round(time.Second)
	c.Query = metrics.MemoryExpr(m.sel)
	if need := total / 4; c.Window < need || c.Window < 5*time.Second {
		return skip(c, fmt.Sprintf("not judged yet: %s of the watch behind, a trend needs %s (a quarter of the watch)", short(c.Window), short(max(need, 5*time.Second))))
	}
	step := max(c.Window/60, time.Second)
	rr, err := m.prom.Range(ctx, c.Query, start, now, step)
	if err != nil {
		return noData(c, err)
	}
	if len(rr.Series) == 0 {
		return noData(c, fmt.Errorf("no series: no service exports %s", metrics.ResidentMemory))
	}
	worst, parts := 0.0, []string{}
	measured := false
	for _, s := range rr.Series {
		svc := s.Labels["service"]
		fit, ok := regress(s.Points)
		if !ok {
			parts = append(parts, fmt.Sprintf("%s: %d samples (need 5)", svc, len(s.Points)))
			continue
		}
		measured = true
		growth := fit.slope * m.opts.Schedule.Total().Seconds() / fit.mean
		sustained := fit.slope > 0 && fit.r2 >= 0.5
		parts = append(parts, fmt.Sprintf("%s %.1f MB, %+.1f MB/h (r² %.2f)%s", svc, fit.mean/1e6, fit.slope*3600/1e6, fit.r2,
			map[bool]string{true: fmt.Sprintf(": %s over the watch", pct(growth)), false: ": no sustained growth"}[sustained]))
		if sustained && growth > worst {
			worst = growth
		}
	}
	if !measured {
		return noData(c, fmt.Errorf("too few samples: %s", strings.Join(parts, "; ")))
	}
	c.Value, c.Shown, c.Status = worst, pct(worst), below(worst, th)
	c.Detail = strings.Join(parts, ", ")
	return c
}

// alerts: the success criterion "No critical alerts triggered".
func (m *Monitor) alerts(ctx context.Context) Check {
	c := Check{Metric: MetricAlerts, Key: keyAlerts, Source: "prometheus", Value: math.NaN(),
		Threshold: 1, ThresholdShown: "none firing", Query: "/api/v1/alerts severity=critical"}
	if m.prom == nil {
		return skip(c, "the target has no Prometheus (prometheus.url)")
	}
	firing, err := m.prom.FiringAlerts(ctx, metrics.SeverityCritical)
	if err != nil {
		return noData(c, err)
	}
	c.Value, c.Shown, c.Status = float64(len(firing)), fmt.Sprintf("%d firing", len(firing)), below(float64(len(firing)), 1)
	if len(firing) > 0 {
		names := make([]string, len(firing))
		for i, a := range firing {
			names[i] = a.String()
		}
		c.Detail = strings.Join(names, "; ")
	}
	return c
}

// smoke: "Check user logins working", "Check search functionality": the
// auth and search flows of Step 4.1, run in-process.
func (m *Monitor) smoke(ctx context.Context) []Check {
	flows := []struct {
		metric string
		f      flow.Flow
	}{{MetricLogins, auth.New(m.tgt)}, {MetricSearch, withoutLatency(search.New(m.tgt))}}
	out := make([]Check, len(flows))
	done := make(chan struct{}, len(flows))
	for i, fl := range flows {
		go func() {
			defer func() { done <- struct{}{} }()
			c := Check{Metric: fl.metric, Key: keySmoke + fl.f.Name, Source: "smoke", Value: math.NaN(),
				ThresholdShown: "every step passes", Query: "smoke flow " + fl.f.Name + " (" + stepNames(fl.f) + ")"}
			r := flow.Run(ctx, fl.f)
			if err := r.Err(); err != nil && ctx.Err() != nil {
				// Interrupted or out of time: the runbook's side, not a
				// broken flow (never the rollback rule's "core broken").
				c.Status, c.Shown, c.Err = NoData, "not finished", fmt.Errorf("the flow did not finish: %w (%v)", context.Cause(ctx), err)
			} else if err != nil {
				c.Status, c.Shown, c.Value, c.Err = Breach, "failed", 1, err
				c.Detail = err.Error()
			} else {
				c.Status, c.Shown, c.Value = Pass, fmt.Sprintf("passed in %s", r.Duration.Round(time.Millisecond)), 0
			}
			out[i] = c
		}()
	}
	for range flows {
		<-done
	}
	return out
}

// withoutLatency drops the search flow's own latency step: the light round
// checks that search WORKS; latency is the p95 check's, over the real
// traffic of the window, against the runbook's threshold (25 requests of
// one flow on a busy node would judge the node, not the release).
func withoutLatency(f flow.Flow) flow.Flow {
	steps := f.Steps[:0:0]
	for _, s := range f.Steps {
		if s.Name != searchLatencyStep {
			steps = append(steps, s)
		}
	}
	f.Steps = steps
	return f
}

// searchLatencyStep is the search flow's latency step (smoke/search).
const searchLatencyStep = "latency_p95"

func stepNames(f flow.Flow) string {
	names := make([]string, len(f.Steps))
	for i, s := range f.Steps {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

func skip(c Check, why string) Check {
	c.Status, c.Err, c.Shown = Skipped, errors.New(why), "not measured"
	return c
}

func noData(c Check, err error) Check {
	c.Status, c.Err, c.Shown = NoData, err, "no data"
	var nd *metrics.NoDataError
	if errors.As(err, &nd) && nd.Query != "" && c.Query == "" {
		c.Query = nd.Query
	}
	return c
}

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fit is a least-squares line through points: slope per second, the mean,
// and r², the share of the variance the line explains.
type fit struct{ slope, mean, r2 float64 }

func regress(points []metrics.Point) (fit, bool) {
	if len(points) < 5 {
		return fit{}, false
	}
	t0 := points[0].Time
	var sx, sy, sxx, sxy, syy float64
	n := float64(len(points))
	for _, p := range points {
		x, y := p.Time.Sub(t0).Seconds(), p.Value
		sx, sy, sxx, sxy, syy = sx+x, sy+y, sxx+x*x, sxy+x*y, syy+y*y
	}
	vx, vy, cov := sxx-sx*sx/n, syy-sy*sy/n, sxy-sx*sy/n
	f := fit{mean: sy / n}
	if vx <= 0 || f.mean <= 0 {
		return fit{}, false
	}
	f.slope = cov / vx
	if vy > 0 {
		f.r2 = cov * cov / (vx * vy)
	}
	return f, true
}
