package postdeploy

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/internal/wait"
)

// canary is a read-only request a service answers with an error status of
// its own (4xx: no error for the error rate) on a route of its own, so
// that Step 4.5 can see the status counted.
type canary struct {
	path, route string
	status      int
}

// canaries are the requests Step 4.5 sends to prove each service's request
// counter records the status it answered.
var canaries = map[string]canary{
	target.BackendCore: {"/auth/me", "/auth/me", http.StatusUnauthorized}, // without a token
	target.DataService: {"/scraper/jobs/runbook-telemetry-canary", "/scraper/jobs/{id}", http.StatusNotFound},
	target.WebFrontend: {"/search?query=runbook-telemetry-canary&limit=0", "/search", http.StatusBadRequest},
}

// CanaryRequests is how many canaries Step 4.5 sends to each service.
const CanaryRequests = 3

// telemetry proves that what Step 4.5 and the watch read is live before
// Step 4.5 reads it: a counter that records every answer as 200 gives an
// error rate of 0% whatever the services answer (a check that cannot
// fail), and a database histogram that observes nothing leaves the
// watch's database query time without data.
//   - Each service answers CanaryRequests canaries with their status, and
//     Prometheus counts them under that status.
//   - The services' database query histogram (metrics.DBQueryDuration)
//     observes new queries.
//
// Prometheus is given minWin (four scrapes) to count them.
func (c *Checker) telemetry(ctx context.Context, ev *Evidence, mc *metrics.Client, minWin time.Duration) error {
	if err := c.statusesCounted(ctx, ev, mc, minWin); err != nil {
		return err
	}
	return c.dbQueriesObserved(ctx, ev, mc, minWin)
}

// statusesCounted sends the canaries and waits for Prometheus to count
// them with their status.
func (c *Checker) statusesCounted(ctx context.Context, ev *Evidence, mc *metrics.Client, limit time.Duration) error {
	sel := c.Target.Prometheus.Selector
	type probe struct {
		service string
		canary
		query  string
		before float64
	}
	var probes []probe
	for _, svc := range c.Target.Services {
		cn, ok := canaries[svc.Name]
		if !ok {
			return fmt.Errorf("service %s has no telemetry canary (known: backend-core, data-service, web-frontend)", svc.Name)
		}
		p := probe{service: svc.Name, canary: cn, query: metrics.StatusCountExpr(sel, svc.Name, cn.route, cn.status)}
		before, err := counterValue(ctx, mc, p.query)
		if err != nil {
			return fmt.Errorf("telemetry not proven, so Step 4.5 is not passed: %w", err)
		}
		p.before = before
		cl, err := httpcheck.ForService(c.Target, svc.Name)
		if err != nil {
			return err
		}
		for range CanaryRequests {
			if _, err := cl.Get(ctx, cn.path, cn.status); err != nil {
				return fmt.Errorf("telemetry canary of %s: %w", svc.Name, err)
			}
		}
		cl.CloseIdleConnections()
		ev.Logf("%s: sent %d GET %s, each answered %d; counted before: %s = %s", svc.Name, CanaryRequests, cn.path, cn.status, p.query, fmtCount(before))
		probes = append(probes, p)
	}
	var seen []string
	err := wait.Poll(ctx, "Prometheus to count the canaries' statuses", metrics.SamplesPoll, limit, func(ctx context.Context) (bool, string, error) {
		seen = seen[:0]
		done := true
		for _, p := range probes {
			now, err := counterValue(ctx, mc, p.query)
			if err != nil {
				return false, "", err
			}
			counted := now - p.before
			if now < p.before { // the process restarted: its counter began again
				counted = now
			}
			if counted < CanaryRequests {
				done = false
			}
			seen = append(seen, fmt.Sprintf("%s: %s of the %d answered %d on %s counted (%s = %s)",
				p.service, fmtCount(counted), CanaryRequests, p.status, p.route, p.query, fmtCount(now)))
		}
		return done, strings.Join(seen, "; "), nil
	})
	if err != nil {
		return fmt.Errorf("Step 4.5 not passed: the request counter does not record the status the services answer, so the error rate cannot see errors: %w", err)
	}
	ev.Logf("statuses counted: %s", strings.Join(seen, "; "))
	return nil
}

// dbQueriesObserved reads how many queries the services' database
// histogram has observed, then waits for it to observe more: on a target
// that is not readOnly after sending a few read-only requests (searches),
// on a readOnly one from real traffic.
func (c *Checker) dbQueriesObserved(ctx context.Context, ev *Evidence, mc *metrics.Client, limit time.Duration) error {
	query := metrics.DBQueryCountExpr(c.Target.Prometheus.Selector)
	before, err := counterValue(ctx, mc, query)
	if err != nil {
		return fmt.Errorf("telemetry not proven, so Step 4.5 is not passed: %w", err)
	}
	if !c.Target.ReadOnly {
		n, err := SendTraffic(ctx, c.Target, 10)
		if err != nil {
			return fmt.Errorf("generating traffic for the database query time: %w", err)
		}
		ev.Logf("sent %d read-only requests (this target is not readOnly: local only) for the database queries to be observed", n)
	}
	var last string
	err = wait.Poll(ctx, "Prometheus to observe new database queries", metrics.SamplesPoll, limit, func(ctx context.Context) (bool, string, error) {
		now, err := counterValue(ctx, mc, query)
		if err != nil {
			return false, "", err
		}
		observed := now - before
		if now < before { // a process restarted: its count began again
			observed = now
		}
		last = fmt.Sprintf("%s new queries observed (%s = %s, %s before)", fmtCount(observed), query, fmtCount(now), fmtCount(before))
		return observed >= 1, last, nil
	})
	if err != nil {
		return fmt.Errorf("Step 4.5 not passed: %s observes no database query, so the watch's database query time has no data: %w", metrics.DBQueryDuration, err)
	}
	ev.Logf("database queries: %s", last)
	return nil
}

// counterValue is a sum query's value; no series is 0 (nothing counted).
func counterValue(ctx context.Context, mc *metrics.Client, query string) (float64, error) {
	r, err := mc.Instant(ctx, query)
	if err != nil {
		return 0, err
	}
	v, ok := r.Value()
	if !ok || math.IsNaN(v) {
		return 0, nil
	}
	return v, nil
}
