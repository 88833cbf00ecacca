//go:build !staging && !prod

package rollback_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/traffic"
	"github.com/granter/runbook/monitor"
	"github.com/granter/runbook/rollback"
	"github.com/granter/runbook/smoke"
)

// withTraffic sends steady read-only load (the local platform has no
// users), waits until a whole window of it is behind (a timer: the window
// must hold the new version's requests only), then until Prometheus has
// counted enough of them to judge (evidence). stop ends it (also at the
// end of the test).
func withTraffic(t *testing.T, window time.Duration) (prom *metrics.Client, stop func()) {
	t.Helper()
	g, err := traffic.New(tgt)
	require.NoError(t, err)
	tr, err := g.Start(context.Background(), 20)
	require.NoError(t, err)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			t.Logf("traffic: %s", tr.Stop())
		})
	}
	t.Cleanup(stop)
	prom, err = metrics.New(tgt.Prometheus.URL)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	filled := time.NewTimer(window + 2*time.Second) // + a scrape and its ingestion
	defer filled.Stop()
	select {
	case <-filled.C:
	case <-ctx.Done():
	}
	_, err = prom.WaitForSamples(ctx, tgt.Prometheus.Selector, window, tgt.Thresholds.MinSamples, time.Minute)
	require.NoError(t, err)
	return prom, stop
}

// The rollback drill (`make local-drill`): the broken v2.0.1 goes through
// backup, migrations and rollout, fails the postdeploy gate (Step 4.1's
// smoke flows and Step 4.5's error rate), and with AUTO_ROLLBACK=1 the
// rollback runs by itself: database and images back, smoke passing on
// v1.9.0.
func TestDrill(t *testing.T) {
	reset(t)
	d := deploy(t, granter.V201)
	prom, stopTraffic := withTraffic(t, 10*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The postdeploy gate as the deploy CLI applies the rule to it.
	var broken []string
	for _, r := range smoke.RunAll(ctx, tgt, smokeOptions()) {
		if r.Failed() {
			broken = append(broken, r.Flow)
			t.Logf("gate: %s", r)
		}
	}
	errs, reqs, rate := math.NaN(), math.NaN(), math.NaN()
	if r, err := prom.ErrorRate(ctx, tgt.Prometheus.Selector, 10*time.Second, 1); err == nil {
		errs, reqs, rate = r.Errors, r.Requests, r.Value
		t.Logf("gate: %s", r)
	}
	decision := monitor.Decide(errs, reqs, broken, tgt.Thresholds)
	t.Logf("gate: %s", decision.Reason)
	require.True(t, decision.Rollback, "v2.0.1 answers 5%% of requests with 500: the gate must call for the rollback")
	assert.Greater(t, rate, tgt.Thresholds.RollbackErrorRate, "error rate above the 1%% trigger")
	stopTraffic() // the rollback's smoke flows judge latency: no load beside them on two cores

	ran, err := rollback.OnTrigger(ctx, tgt, decision, true, rollback.Options{RunDir: d.runDir, Out: out(t), Smoke: smokeOptions()})
	require.True(t, ran, "AUTO_ROLLBACK=1 runs the rollback")
	require.NoError(t, err)
	assertDatabaseEqualsBackup(t, d.backup)
	assertOnVersion(t, granter.V1)
	for _, r := range smoke.RunAll(ctx, tgt, smokeOptions()) {
		assert.NoError(t, r.Err(), "smoke on v1.9.0 after the drill: %s", r)
	}
	assertServicesAsAppRole(t)
}

// Without AUTO_ROLLBACK the rule prints the exact command and changes
// nothing.
func TestTriggerWithoutAutoPrintsTheCommand(t *testing.T) {
	var buf strings.Builder
	ran, err := rollback.OnTrigger(context.Background(), tgt, monitor.Decision{Rollback: true, Reason: "rollback trigger met: error rate 4.90% > 1.00%"}, false,
		rollback.Options{RunDir: "runs/20260303-140000-local", Out: &buf})
	require.NoError(t, err)
	assert.False(t, ran)
	assert.Contains(t, buf.String(), "make rollback ENV=local RUN=runs/20260303-140000-local")
	assert.Contains(t, buf.String(), "error rate 4.90% > 1.00%")
	ran, err = rollback.OnTrigger(context.Background(), tgt, monitor.Decision{Reason: "not met"}, true, rollback.Options{})
	assert.False(t, ran, "no trigger, no rollback")
	assert.NoError(t, err)
}

// The watch over the broken v2.0.1, compressed to seconds, fails in its
// first round on the error rate, and with AUTO_ROLLBACK the rollback
// follows.
func TestWatchThenAutoRollback(t *testing.T) {
	reset(t)
	d := deploy(t, granter.V201)
	_, stopTraffic := withTraffic(t, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sch := monitor.MustParseSchedule("5s x4")
	res, err := monitor.Watch(ctx, tgt, monitor.Options{Schedule: sch, Out: out(t)})
	require.Error(t, err, "the watch of v2.0.1 fails")
	require.NotNil(t, res.Failed)
	assert.Equal(t, 1, res.Failed.N, "within one round")
	var rate *monitor.Check
	for _, c := range res.Failed.Failing() {
		if c.Metric == monitor.MetricErrorRate {
			rate = &c
		}
	}
	require.NotNil(t, rate, "the error rate is among the breaches: %v", err)
	assert.Greater(t, rate.Value, tgt.Thresholds.RollbackErrorRate)
	for _, want := range []string{"error rate", "threshold < 0.10%", "query: (sum(rate(http_requests_total"} {
		assert.Contains(t, err.Error(), want)
	}
	require.True(t, res.Decision.Rollback, res.Decision.Reason)
	stopTraffic()

	ran, err := rollback.OnTrigger(ctx, tgt, res.Decision, true, rollback.Options{RunDir: d.runDir, Out: out(t), Smoke: smokeOptions()})
	require.True(t, ran)
	require.NoError(t, err)
	assertOnVersion(t, granter.V1)
	assertDatabaseEqualsBackup(t, d.backup)
}
