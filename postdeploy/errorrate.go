package postdeploy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/stats"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/internal/traffic"
	"github.com/granter/runbook/internal/wait"
)

func errorRateManual(tgt *target.Target) string {
	sel := ""
	if tgt.Prometheus != nil {
		sel = tgt.Prometheus.Selector
	}
	return "dashboard Error Rate < 0.1%: " + metrics.ErrorRatioExpr(metrics.UserRequests(sel), ErrorRateWindow)
}

func alertsManual(tgt *target.Target) string {
	url := ""
	if tgt.Prometheus != nil {
		url = tgt.Prometheus.URL
	}
	return "curl " + url + "/api/v1/alerts   (no alert with severity=critical firing)"
}

func (c *Checker) prometheus() (*metrics.Client, error) {
	p := c.Target.Prometheus
	if p == nil || p.URL == "" {
		return nil, fmt.Errorf("the target has no Prometheus (prometheus.url in %s): the error rate cannot be measured, so it is not proven", c.Target.File)
	}
	return metrics.New(p.URL, metrics.WithTimeout(c.Target.HTTP.Timeout))
}

// errorRate is Step 4.5, "Error rate < 0.1%", decided from the counts and
// not from the ratio: the 5xx answers among every request the selector
// picks since the end of Phase 3 (the window never reaches back before it:
// the old version's requests are not evidence of the new one; the
// shortest window is four scrapes) give a one-sided 95% Clopper-Pearson upper
// bound, and the step passes (MET) only when that bound is under
// thresholds.errorRate. Zero errors in 294 requests is INCONCLUSIVE (the
// bound is 1%), zero in 3,000 is MET for 0.1% (stats.MinSample). Every
// service must have served requests in the window: one whose series are
// missing is no data for that service, never absorbed into the sum.
//
// Before it reads the counts, the step proves them live (telemetry): each
// service's counter records the status of requests it answered 4xx, and
// the database query histogram observes queries. Not proven, a MET does
// not pass; a BREACHED is still one.
//
// Too few requests to decide is INCONCLUSIVE, which does not pass. On a
// target that is not readOnly (local only) the check sends the read-only
// traffic still needed and waits for Prometheus to count it; on a readOnly
// one it waits for real traffic while the window grows to ErrorRateWindow,
// and then says how many requests were missing.
func (c *Checker) errorRate(ctx context.Context, ev *Evidence) error {
	mc, err := c.prometheus()
	if err != nil {
		return err
	}
	tgt := c.Target
	// Users' requests only: probes and scrapes always succeed (and would
	// pad the sample with requests nobody made).
	sel, threshold := metrics.UserRequests(tgt.Prometheus.Selector), tgt.Thresholds.ErrorRate
	services := tgt.ServiceNames()
	minWin, err := mc.MinRateWindow(ctx, MinErrorRateWindow)
	if err != nil {
		ev.Logf("%v: the shortest window is taken as %s", err, minWin)
	}
	var rate metrics.Rate
	var res, over stats.Result
	measure := func(ctx context.Context) (bool, string, error) {
		win, after := c.newVersionWindow(time.Now(), minWin)
		r, err := mc.ErrorRate(ctx, sel, win, 1)
		if err != nil && ctx.Err() != nil {
			return false, "", nil // cut short by the deadline: reported as the timeout
		}
		if err != nil && !errors.Is(err, metrics.ErrNoData) {
			return false, "", err
		}
		// Both claims from the same counts: the gate's "< 0.1%", and the
		// rollback rule's "> 1%", so that a failing gate leaves the rule
		// enough requests to tell (1.5% errors breach 0.1% within a few
		// hundred requests but show "> 1%" only after about 1,600).
		rate, res, over = r, r.Under(threshold), r.Over(tgt.Thresholds.RollbackErrorRate)
		missing := r.MissingServices(services)
		seen := fmt.Sprintf("%s; rollback rule: %s; requests per service: %s", res, over, orNone(r.PerService()))
		if len(missing) > 0 {
			seen += "; no requests from " + strings.Join(missing, ", ")
		}
		if !after {
			seen += fmt.Sprintf("; the %s window still reaches back before Phase 3 ended (%s)", win, c.Since.UTC().Format("15:04:05"))
		}
		return after && res.Decided() && over.Decided() && len(missing) == 0, seen, nil
	}
	// The telemetry's proof stops only a MET: a BREACHED is one whatever
	// the canaries saw, and the rollback rule needs the counts journaled.
	telemetry := c.telemetry(ctx, ev, mc, minWin)
	if telemetry != nil {
		ev.Logf("%v", telemetry)
	}
	if err := c.waitPastPhase3(ctx, ev, minWin); err != nil {
		return fmt.Errorf("error rate not measured, so Step 4.5 is not passed: %w", err)
	}
	done, seen, err := measure(ctx)
	if !done && err == nil {
		ev.Logf("first look: %s", seen)
	}
	if err != nil {
		return fmt.Errorf("error rate not measured, so Step 4.5 is not passed: %w", err)
	}
	if !done {
		err = c.moreRequests(ctx, ev, func() stats.Result {
			if over.Needed > res.Needed || over.Needed < 0 {
				return over
			}
			return res
		}, measure)
	}
	for k, v := range journal.RateData(res) {
		ev.Set(k, v)
	}
	ev.Set(journal.KeyErrorRateQuery, rate.Query)
	ev.Set(journal.KeyErrorRateWindow, rate.Window.String())
	ev.Set("error_rate.per_service", rate.PerService())
	ev.Logf("%s; %s 5xx (%s) of %s requests (%s); per service: %s", res, fmtCount(rate.Errors), rate.ErrorsQuery,
		fmtCount(rate.Requests), rate.RequestCountQuery, orNone(rate.PerService()))
	ev.Logf("rollback rule on the same counts: %s", over)
	if missing := rate.MissingServices(services); len(missing) > 0 {
		return errors.Join(fmt.Errorf("error rate not proven: no data for %s (no request counted in %s: %s), so Step 4.5 is not passed; %s",
			strings.Join(missing, ", "), rate.Window, rate.ByServiceQuery, res), telemetry)
	}
	switch res.Verdict {
	case stats.Met:
		if telemetry != nil {
			return fmt.Errorf("Step 4.5 not passed: %s over %s, but %w", res, rate.Window, telemetry)
		}
		ev.Summarize("%s over %s", res, rate.Window)
		return nil
	case stats.Breached:
		return fmt.Errorf("Step 4.5 failed: %s over %s (query: %s)", res, rate.Window, rate.Query)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("Step 4.5 not passed: %s over %s: %w", res, rate.Window, err), telemetry)
	}
	return errors.Join(fmt.Errorf("Step 4.5 not passed: %s over %s (query: %s)", res, rate.Window, rate.Query), telemetry)
}

// moreRequests gets the requests an INCONCLUSIVE error rate still needs,
// then measures again until the claim is decided: on a target that is not
// readOnly it sends them itself (bounded by MaxTraffic) and waits at most
// TrafficWait for Prometheus to count them; on a readOnly target it waits
// for real traffic until the window reaches ErrorRateWindow after Phase 3
// ended (at least TrafficWait).
func (c *Checker) moreRequests(ctx context.Context, ev *Evidence, need func() stats.Result, measure wait.Check) error {
	const name = "the error rate to be decided (MET or BREACHED) with every service counted"
	if c.Target.ReadOnly {
		limit := TrafficWait
		if !c.Since.IsZero() {
			limit = max(limit, time.Until(c.Since.Add(ErrorRateWindow)))
		}
		ev.Logf("%s: this target is readOnly, so waiting up to %s for real traffic", need(), limit.Round(time.Second))
		return wait.Poll(ctx, name, metrics.SamplesPoll, limit, measure)
	}
	// Sent requests that Prometheus never counts (a process restarted
	// before its first scrape starts its counter unseen) are made up by the
	// next round.
	var err error
	for round := 1; round <= TrafficRounds; round++ {
		res := need()
		n := res.Needed + res.Needed/4 + 10
		if res.Needed < 0 || n > MaxTraffic {
			n = MaxTraffic
		}
		ev.Logf("%s: sending %d read-only requests (this target is not readOnly: local only) so the claim can be decided (round %d of at most %d)", res, n, round, TrafficRounds)
		sent, serr := SendTraffic(ctx, c.Target, int(n))
		if serr != nil {
			return fmt.Errorf("generating traffic for the measurement: %w", serr)
		}
		ev.Logf("sent %d requests; waiting up to %s for Prometheus to count them", sent, TrafficWait/TrafficRounds)
		if err = wait.Poll(ctx, name, metrics.SamplesPoll, TrafficWait/TrafficRounds, measure); err == nil || ctx.Err() != nil {
			return err
		}
		var te *wait.TimeoutError
		if !errors.As(err, &te) {
			return err
		}
	}
	return err
}

// waitPastPhase3 waits, on a clock and at most minWin, until the shortest
// window a rate is read over (minWin) no longer reaches back before Phase
// 3 ended: the old version's requests are not evidence of the new one.
func (c *Checker) waitPastPhase3(ctx context.Context, ev *Evidence, minWin time.Duration) error {
	if c.Since.IsZero() {
		return nil
	}
	d := time.Until(c.Since.Add(minWin + time.Second))
	if d <= 0 {
		return nil
	}
	ev.Logf("waiting %s, until a %s window (four scrapes) lies after Phase 3 ended (%s)", d.Round(time.Millisecond), minWin, c.Since.UTC().Format("15:04:05"))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// newVersionWindow is the window Step 4.5 reads at now: the time since
// Phase 3 ended, at most ErrorRateWindow. after is false while that is
// shorter than minWin (the shortest window a rate can be read over), so
// that the window minWin would reach back before Phase 3 ended. Without a
// Phase 3 end (make postdeploy alone) it is ErrorRateWindow.
func (c *Checker) newVersionWindow(now time.Time, minWin time.Duration) (time.Duration, bool) {
	if c.Since.IsZero() {
		return ErrorRateWindow, true
	}
	w := now.Sub(c.Since).Truncate(time.Second)
	switch {
	case w < minWin:
		return minWin, false
	case w > ErrorRateWindow:
		return ErrorRateWindow, true
	}
	return w, true
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func fmtCount(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

// SendTraffic sends n read-only requests, as users would (internal/traffic).
// It answers how many got an HTTP answer of any status; it fails only when
// none did. It refuses a readOnly target.
func SendTraffic(ctx context.Context, tgt *target.Target, n int) (int, error) {
	g, err := traffic.New(tgt)
	if err != nil {
		return 0, err
	}
	c := g.Send(ctx, n)
	if c.Answered == 0 {
		return 0, fmt.Errorf("none of %d requests was answered: %v", n, c.LastErr)
	}
	return int(c.Answered), nil
}

// alerts is the success criterion "No critical alerts triggered": no
// alert of severity critical firing in Prometheus.
func (c *Checker) alerts(ctx context.Context, ev *Evidence) error {
	mc, err := c.prometheus()
	if err != nil {
		return err
	}
	firing, err := mc.FiringAlerts(ctx, "critical")
	if err != nil {
		return fmt.Errorf("reading the alerts: %w", err)
	}
	ev.Set("alerts.critical", strconv.Itoa(len(firing)))
	ev.Set("alerts.query", `ALERTS{alertstate="firing",severity="critical"}`)
	var names []string
	for _, a := range firing {
		names = append(names, a.String())
	}
	ev.Set("alerts.critical.names", strings.Join(names, ", "))
	if err := metrics.CheckNoneFiring(firing); err != nil {
		return err
	}
	ev.Summarize("no critical alert firing")
	return nil
}
