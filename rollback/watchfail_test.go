//go:build !staging && !prod

package rollback_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/faults"
	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/monitor"
	"github.com/granter/runbook/rollback"
)

// Acceptance: "A release that starts failing during the watch is rolled
// back by `make monitor`" (AUTO_ROLLBACK=1). v2.0.0 is deployed healthy;
// the watch's first round passes; then the release starts answering 5% of
// requests 500 (the fault switch stands for a regression that shows up
// after go-live). The next round fails on the error rate, the rollback
// rule fires, and the automatic rollback runs and proves v1.9.0 running
// (images, database, smoke). These are the calls `runbook monitor
// --auto-rollback` makes (monitor.Watch, then rollback.OnTrigger).
func TestReleaseFailingDuringTheWatchIsRolledBack(t *testing.T) {
	reset(t)
	// The watch's "< 0.1%" needs 3,000 requests a window to pass a healthy
	// round (stats.MinSample); at this test's 20 requests/s the round is
	// judged at 1%, as monitor's own tests do. The rollback rule (> 1% on
	// the lower bound) is the runbook's, unchanged.
	saved := tgt.Thresholds.ErrorRate
	tgt.Thresholds.ErrorRate = 0.01
	t.Cleanup(func() { tgt.Thresholds.ErrorRate = saved })
	d := deploy(t, granter.V2)
	_, stopTraffic := withTraffic(t, 20*time.Second)
	t.Cleanup(func() { _ = env.Platform.Faults.Disable(faults.PlatformErrorRate5pct) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var failingSince time.Time
	res, err := monitor.Watch(ctx, tgt, monitor.Options{Schedule: monitor.MustParseSchedule("20s x6"), Out: out(t), NoSmoke: true,
		OnRound: func(r monitor.Round) {
			if r.N == 1 && r.Passed() {
				require.NoError(t, env.Platform.Faults.Enable(faults.PlatformErrorRate5pct))
				failingSince = time.Now()
			}
		}})
	require.False(t, failingSince.IsZero(), "round 1 of the healthy v2.0.0 must pass: %v", err)
	require.Error(t, err, "the watch must fail once the release fails")
	require.NotNil(t, res.Failed)
	assert.Greater(t, res.Failed.N, 1, "the failure comes during the watch, not before it")
	require.True(t, res.Decision.Rollback, "5%% errors is above the 1%% trigger: %s", res.Decision.Reason)
	t.Logf("round %d failed %s after the release started failing: %s", res.Failed.N, time.Since(failingSince).Round(time.Millisecond), res.Decision.Reason)
	stopTraffic()
	// The regression is in v2.0.0's code, which the rollback replaces:
	// the switch goes off with it (the rollback's own smoke flows then
	// judge v1.9.0, not the switch).
	require.NoError(t, env.Platform.Faults.Disable(faults.PlatformErrorRate5pct))

	ran, err := rollback.OnTrigger(ctx, tgt, res.Decision, true, rollback.Options{RunDir: d.runDir, Out: out(t), Smoke: smokeOptions()})
	require.True(t, ran, "AUTO_ROLLBACK=1: the rollback must run")
	require.NoError(t, err)
	assertOnVersion(t, granter.V1)
	assertDatabaseEqualsBackup(t, d.backup)
}
