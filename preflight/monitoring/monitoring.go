package monitoring

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/roster"
	"github.com/granter/runbook/internal/stats"
	"github.com/granter/runbook/internal/target"
)

// The sub-items, in the runbook's words.
const (
	DashboardsPrepared  = "Dashboards prepared"
	ThresholdsSet       = "Alert thresholds set"
	OnCallReady         = "On-call staff ready"
	BaselineEstablished = "Error rate baseline established"
	itemNumber          = 7
)

// UserTraffic is the matcher that keeps the services' real requests
// (metrics.UserTraffic).
const UserTraffic = metrics.UserTraffic

// Option sets an optional setting of New.
type Option func(*config)

type config struct {
	window  time.Duration
	journal *journal.Journal
	now     func() time.Time
}

// WithBaselineWindow replaces thresholds.baselineWindow (fault tests: a
// window without traffic).
func WithBaselineWindow(d time.Duration) Option { return func(c *config) { c.window = d } }

// WithJournal records the baseline in the run's journal.
func WithJournal(j *journal.Journal) Option { return func(c *config) { c.journal = j } }

// WithClock replaces time.Now for the on-call window and the
// confirmations' age.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New returns checklist item 7 for tgt.
func New(tgt *target.Target, opts ...Option) flow.Flow {
	c := config{window: tgt.Thresholds.BaselineWindow, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	if c.window <= 0 {
		c.window = time.Hour
	}
	it := &item{tgt: tgt, c: c}
	return checklist.Flow(tgt, itemNumber, map[string]checklist.Check{
		DashboardsPrepared:  it.dashboards,
		ThresholdsSet:       it.thresholds,
		OnCallReady:         it.onCall,
		BaselineEstablished: it.baseline,
	})
}

type item struct {
	tgt *target.Target
	c   config
}

func (it *item) prometheus() (*metrics.Client, error) {
	p := it.tgt.Prometheus
	if p == nil || p.URL == "" {
		return nil, fmt.Errorf("no Prometheus configured (prometheus.url in %s)", it.tgt.File)
	}
	return metrics.New(p.URL, metrics.WithTimeout(it.tgt.HTTP.Timeout))
}

func (it *item) dashboards(ctx context.Context, r *flow.Recorder) error {
	p := it.tgt.Prometheus
	if p == nil || len(p.Dashboards) == 0 {
		return fmt.Errorf("no dashboard configured (prometheus.dashboards in %s): list the error rate and latency dashboards the team watches", it.tgt.File)
	}
	var problems []error
	var ok []string
	for _, u := range p.Dashboards {
		c := httpcheck.New("dashboard", u, it.tgt.HTTP, it.tgt.Redact)
		resp, err := c.Get(ctx, u, 200)
		c.CloseIdleConnections()
		if err != nil {
			problems = append(problems, err)
			continue
		}
		r.Logf("dashboard %s", resp)
		ok = append(ok, fmt.Sprintf("%s (%s)", resp.URL, resp.Duration.Round(time.Millisecond)))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d of %d dashboards do not answer 200: %w", len(problems), len(p.Dashboards), errors.Join(problems...))
	}
	checklist.Evidence(r, "%d dashboard(s) answer 200: %s", len(ok), strings.Join(ok, ", "))
	return nil
}

// Wanted is each alert rule and the threshold the runbook gives it, from
// the target's thresholds.
func Wanted(tgt *target.Target) map[string]float64 {
	return metrics.ThresholdsOf(tgt.Thresholds).Alerts()
}

func (it *item) thresholds(ctx context.Context, r *flow.Recorder) error {
	mc, err := it.prometheus()
	if err != nil {
		return err
	}
	loaded, err := mc.RuleThresholds(ctx)
	if err != nil {
		return fmt.Errorf("the alert rules cannot be read: %w", err)
	}
	want := Wanted(it.tgt)
	for _, l := range loaded {
		r.Logf("rule %s (group %s): %s %g; expr %s", l.Name, l.Group, l.Op, l.Threshold, l.Expr)
	}
	if err := metrics.CheckRuleThresholds(loaded, want); err != nil {
		return fmt.Errorf("prometheus %s: %w: fix the rules file and reload Prometheus", mc.URL(), err)
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	var shown []string
	for _, n := range names {
		v := want[n]
		if n == metrics.AlertLatencyP95High {
			shown = append(shown, fmt.Sprintf("%s > %s", n, metrics.Seconds.Format(v)))
		} else {
			shown = append(shown, fmt.Sprintf("%s > %s", n, metrics.Ratio.Format(v)))
		}
	}
	checklist.Evidence(r, "the loaded rules alert at the runbook's numbers: %s", strings.Join(shown, ", "))
	return nil
}

func (it *item) onCall(ctx context.Context, r *flow.Recorder) error {
	ro, err := roster.LoadFor(it.tgt)
	if err != nil {
		return err
	}
	now := it.c.now()
	w := ro.Window
	if w.End.IsZero() || !w.End.After(w.Start) {
		return fmt.Errorf("roster %s gives no deployment window (window: {start, end}): on-call cannot be checked against it", ro.Path)
	}
	if !w.End.After(now) {
		return fmt.Errorf("roster %s: its deployment window %s is over: write the roster of this deployment", ro.Path, w)
	}
	from := w.Start
	if now.After(from) {
		from = now
	}
	shifts, err := ro.OnCallDuring(from, w.End)
	if err != nil {
		return err
	}
	file, acks, since, err := roster.AcksFor(it.tgt, now)
	if err != nil {
		return err
	}
	people := roster.People(shifts)
	got, missing := roster.Confirmations(acks, itemNumber, OnCallReady, since, people)
	var ready []string
	for _, s := range shifts {
		r.Logf("on call: %s", s)
	}
	for _, p := range people {
		if a, ok := got[p.Handle]; ok {
			ready = append(ready, fmt.Sprintf("%s (%s) ready at %s", p.Name, p.Handle, a.At.Local().Format("15:04")))
		}
	}
	if len(missing) > 0 {
		var lines []string
		for _, p := range missing {
			lines = append(lines, fmt.Sprintf("%s (%s) on call during the window has not confirmed since %s: %s", p.Name, p.Handle,
				since.Local().Format("2006-01-02 15:04 MST"), roster.AckCommand(file, itemNumber, OnCallReady, p.Handle)))
		}
		return fmt.Errorf("on-call staff not ready (%s): %s", ro.Path, strings.Join(lines, "; "))
	}
	checklist.Evidence(r, "on call from %s to %s without a gap: %s", from.Local().Format("15:04"), w.End.Local().Format("2006-01-02 15:04 MST"), strings.Join(ready, "; "))
	return nil
}

func (it *item) baseline(ctx context.Context, r *flow.Recorder) error {
	began := time.Now()
	mc, err := it.prometheus()
	if err != nil {
		return err
	}
	sel := metrics.UserRequests(it.tgt.Prometheus.Selector)
	need := it.tgt.Thresholds.MinSamples
	rate, err := mc.ErrorRate(ctx, sel, it.c.window, need)
	r.Logf("%s", rate.Measurement)
	if err != nil {
		if errors.Is(err, metrics.ErrNoData) {
			return fmt.Errorf("no error rate baseline: %w: the services had fewer than %d real requests in the last %s (scrapes and probes do not count): without a baseline, Step 4.5 has nothing to compare with",
				err, need, it.c.window)
		}
		return fmt.Errorf("no error rate baseline: %w", err)
	}
	at := rate.At
	if it.c.journal != nil {
		if err := it.c.journal.Add(journal.Entry{Phase: journal.Preflight, Step: "7", Action: "error rate baseline established", Status: journal.StatusOK,
			// Started and Duration are the check's own (the report's timeline
			// shows them); the window the rate covers is data.
			Started: began, Duration: time.Since(began),
			Data: map[string]string{
				journal.KeyErrorRate: fmt.Sprintf("%g", rate.Value), "requests": fmt.Sprintf("%.0f", rate.Requests), "errors": fmt.Sprintf("%.0f", rate.Errors),
				"window": it.c.window.String(), "baseline.window": it.c.window.String(), "query": rate.Query, "at": at.UTC().Format(time.RFC3339),
			}}); err != nil {
			return fmt.Errorf("baseline measured, but recording it in the journal failed: %w", err)
		}
		r.Logf("recorded in the journal %s", it.c.journal.Dir())
	}
	// Blocking only on evidence: the old version is shown over the
	// threshold (its 95% lower bound), not one error in a hundred requests.
	if limit := it.tgt.Thresholds.ErrorRate; limit > 0 && rate.Under(limit).Verdict == stats.Breached {
		return fmt.Errorf("the baseline error rate is already over the runbook's %s (%s, over %s): Step 4.5 would fail whatever the release does; find the cause before deploying (query: %s)",
			metrics.Ratio.Format(limit), rate.Under(limit), it.c.window, rate.Query)
	}
	checklist.Evidence(r, "%s over the last %s (%.0f errors in %.0f requests, at least %d needed), below the runbook's %s",
		metrics.Ratio.Format(rate.Value), it.c.window, rate.Errors, rate.Requests, need, metrics.Ratio.Format(it.tgt.Thresholds.ErrorRate))
	return nil
}
