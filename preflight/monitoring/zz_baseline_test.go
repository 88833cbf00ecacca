//go:build !staging && !prod

package monitoring_test

import (
	"context"
	"testing"
	"time"

	"github.com/granter/runbook/fixtures/faults"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/prom"
	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/monitoring"
	"github.com/stretchr/testify/require"
)

// This file's name sorts last on purpose: the errors its test causes stay
// in Prometheus for the hour the other tests' baseline looks back over, so
// it runs after them.

// A baseline already over the threshold blocks the checklist, on evidence:
// the old version is shown over 0.1% on the 95% lower bound.
func TestZBaselineAlreadyOverThreshold(t *testing.T) {
	localenv.RequireStarted(t, env)
	// The old version fails every 20th request of data-service: 1,000
	// of them give 50 errors, which show a rate over 0.1% on its 95%
	// lower bound whatever else the window holds.
	require.NoError(t, env.Platform.Faults.Enable(faults.PlatformErrorRate5pct+"@"+target.DataService))
	t.Cleanup(func() {
		require.NoError(t, env.Platform.Faults.Disable(faults.PlatformErrorRate5pct+"@"+target.DataService))
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	require.NoError(t, prom.DataServiceUsers(ctx, tgt, 1000, 40))
	res := run(t, nil, monitoring.WithBaselineWindow(time.Minute))
	checklist.AssertOnlyFails(t, res, monitoring.BaselineEstablished, "the baseline error rate is already over the runbook's 0.10%",
		"95% lower bound", "BREACHED")
}
