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
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/internal/traffic"
)

func errorRateManual(tgt *target.Target) string {
	sel := ""
	if tgt.Prometheus != nil {
		sel = tgt.Prometheus.Selector
	}
	return "dashboard Error Rate < 0.1%: " + metrics.ErrorRatioExpr(sel, ErrorRateWindow)
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

// errorRate is Step 4.5: the share of 5xx answers over every Granter
// series since the end of Phase 3 is below thresholds.errorRate, measured
// on at least thresholds.minSamples requests. Too few requests is "no
// data" and fails; on a target whose data may be reset (not readOnly) the
// check first sends bounded read-only traffic to get them.
func (c *Checker) errorRate(ctx context.Context, ev *Evidence) error {
	mc, err := c.prometheus()
	if err != nil {
		return err
	}
	tgt := c.Target
	sel, min, threshold := tgt.Prometheus.Selector, tgt.Thresholds.MinSamples, tgt.Thresholds.ErrorRate
	win := c.window(time.Now(), MinErrorRateWindow, ErrorRateWindow, ErrorRateWindow)
	ev.Set(journal.KeyErrorRateThreshold, strconv.FormatFloat(threshold, 'g', -1, 64))
	ev.Set(journal.KeyErrorRateWindow, win.String())
	rate, err := mc.ErrorRate(ctx, sel, win, min)
	if errors.Is(err, metrics.ErrNoData) && !tgt.ReadOnly {
		need := min - int(rate.Requests)
		n := need + need/4 + 10
		ev.Logf("only %.0f requests in %s (need >= %d): sending %d read-only requests (this target is not readOnly: local only) so the measurement has its samples",
			rate.Requests, win, min, n)
		sent, terr := SendTraffic(ctx, tgt, n)
		ev.Logf("sent %d requests; waiting for Prometheus to count them (at most %s)", sent, TrafficWait)
		if terr != nil {
			return fmt.Errorf("generating traffic for the measurement: %w", terr)
		}
		rate, err = mc.WaitForSamples(ctx, sel, win, min, TrafficWait)
	}
	ev.Set(journal.KeyErrorRateQuery, rate.Query)
	ev.Set(journal.KeyErrorRateRequests, fmt.Sprintf("%.0f", rate.Requests))
	if err != nil {
		return fmt.Errorf("error rate not measured, so Step 4.5 is not passed: %w", err)
	}
	ev.Set(journal.KeyErrorRate, strconv.FormatFloat(rate.Value, 'g', 6, 64))
	ev.Logf("%s; %.0f 5xx (%s)", rate.Measurement, rate.Errors, rate.ErrorsQuery)
	if err := metrics.CheckBelow(rate.Measurement, threshold); err != nil {
		return fmt.Errorf("%w; %.0f of %.0f requests answered 5xx (%s)", err, rate.Errors, rate.Requests, rate.ErrorsQuery)
	}
	ev.Summarize("error rate %s < %s over %s (%.0f requests)", metrics.Ratio.Format(rate.Value), metrics.Ratio.Format(threshold), win, rate.Requests)
	return nil
}

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
