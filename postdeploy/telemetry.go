package postdeploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
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
// counter records the status it answered. data-service's looks the job up
// in the database, so the database query histogram has a query of its
// own to observe, whatever the real traffic.
var canaries = map[string]canary{
	target.BackendCore: {"/auth/me", "/auth/me", http.StatusUnauthorized}, // without a token
	target.DataService: {"/scraper/jobs/00000000-0000-4000-8000-00000000c4a7", "/scraper/jobs/{id}", http.StatusNotFound},
	target.WebFrontend: {"/search?query=runbook-telemetry-canary&limit=0", "/search", http.StatusBadRequest},
}

// CanaryRequests is how many canaries Step 4.5 sends to each service. They
// are in the step's request count, as the 4xx they are.
const CanaryRequests = 3

// telemetry proves that what Step 4.5 and the watch read is live: a
// counter that records every answer as 200 gives an error rate of 0%
// whatever the services answer (a MET that cannot fail), and a database
// histogram that observes nothing leaves the watch's database query time
// without data.
//   - Each service answers CanaryRequests canaries, and Prometheus counts
//     the ones answered with the canary's status under that status.
//   - The services' database query histogram (metrics.DBQueryDuration)
//     observes new queries (data-service's canaries make some).
//
// Prometheus is given limit (four scrapes) to count them. Counters are
// compared series by series, so a process that restarted, or one that
// went away, is not taken for counts.
func (c *Checker) telemetry(ctx context.Context, ev *Evidence, mc *metrics.Client, limit time.Duration) error {
	sel := c.Target.Prometheus.Selector
	type probe struct {
		service string
		canary
		query    string
		answered int // with the canary's status
		before   metrics.Counters
	}
	dbQuery := metrics.DBQuerySeriesExpr(sel)
	dbBefore, err := mc.Counters(ctx, dbQuery)
	if err != nil {
		return fmt.Errorf("telemetry not proven: %w", err)
	}
	var probes []*probe
	for _, svc := range c.Target.Services {
		cn, ok := canaries[svc.Name]
		if !ok {
			known := make([]string, 0, len(canaries))
			for name := range canaries {
				known = append(known, name)
			}
			slices.Sort(known)
			return fmt.Errorf("service %s has no telemetry canary (known: %s)", svc.Name, strings.Join(known, ", "))
		}
		p := &probe{service: svc.Name, canary: cn, query: metrics.StatusSeriesExpr(sel, svc.Name, cn.route, cn.status)}
		if p.before, err = mc.Counters(ctx, p.query); err != nil {
			return fmt.Errorf("telemetry not proven: %w", err)
		}
		if err := c.sendCanaries(ctx, ev, p.service, cn, &p.answered); err != nil {
			return err
		}
		probes = append(probes, p)
	}
	var last []string
	err = wait.Poll(ctx, "Prometheus to count the canaries and observe database queries", metrics.SamplesPoll, limit, func(ctx context.Context) (bool, string, error) {
		last = last[:0]
		done := true
		for _, p := range probes {
			now, err := mc.Counters(ctx, p.query)
			if err != nil {
				return false, "", err
			}
			counted := now.Since(p.before)
			done = done && counted >= float64(p.answered)
			last = append(last, fmt.Sprintf("%s: %s of the %d answered %d on %s counted (%s: %s now)",
				p.service, fmtCount(counted), p.answered, p.status, p.route, p.query, fmtCount(now.Total())))
		}
		now, err := mc.Counters(ctx, dbQuery)
		if err != nil {
			return false, "", err
		}
		observed := now.Since(dbBefore)
		done = done && observed >= 1
		last = append(last, fmt.Sprintf("database: %s new queries observed (%s: %s now, %s before)",
			fmtCount(observed), dbQuery, fmtCount(now.Total()), fmtCount(dbBefore.Total())))
		return done, strings.Join(last, "; "), nil
	})
	if err != nil {
		var te *wait.TimeoutError
		if errors.As(err, &te) {
			return fmt.Errorf("the telemetry does not show what the services did, so an error rate read from it proves nothing "+
				"(want every canary counted under its status and at least 1 new database query in %s): %s", te.Timeout, te.LastSeen)
		}
		return fmt.Errorf("telemetry not proven: %w", err)
	}
	ev.Logf("telemetry live: %s", strings.Join(last, "; "))
	return nil
}

// sendCanaries sends CanaryRequests canaries to one service and counts
// those answered with the canary's status. Another answer (a 5xx of a
// failing release) is logged, not fatal: it is an error the rate counts.
// None answered as expected is an error: nothing can then be counted.
func (c *Checker) sendCanaries(ctx context.Context, ev *Evidence, service string, cn canary, answered *int) error {
	cl, err := httpcheck.ForService(c.Target, service)
	if err != nil {
		return err
	}
	defer cl.CloseIdleConnections()
	var last error
	for range CanaryRequests {
		if _, err := cl.Get(ctx, cn.path, cn.status); err != nil {
			last = err
			ev.Logf("%s: telemetry canary not answered %d: %v", service, cn.status, err)
			continue
		}
		*answered++
	}
	if *answered == 0 {
		return fmt.Errorf("telemetry not proven: none of the %d canaries of %s answered %d (last: %w)", CanaryRequests, service, cn.status, last)
	}
	ev.Logf("%s: sent %d GET %s, %d answered %d", service, CanaryRequests, cn.path, *answered, cn.status)
	return nil
}
