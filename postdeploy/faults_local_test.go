//go:build !staging && !prod

package postdeploy_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/faults"
	"github.com/granter/runbook/fixtures/prom"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/postdeploy"
)

// faultCase: with fault on and traffic sent, check must fail with a
// message holding every cause.
type faultCase struct {
	fault   string
	check   string
	traffic func(ctx context.Context, t *testing.T)
	cause   []string
}

func faultProofs(t *testing.T) {
	if local == nil {
		t.Skip("needs the fault switches of a platform this process started; unset RUNBOOK_LOCAL_TARGET")
	}
	users := func(ctx context.Context, t *testing.T) {
		_, err := postdeploy.SendTraffic(ctx, tgt, 30)
		require.NoError(t, err)
	}
	cases := []faultCase{
		{faults.PlatformLogErrors, "TestLogs", users, []string{"ERROR-level log lines", "unhandled exception in request pipeline"}},
		{faults.PlatformSQLErrors, "TestNoSQLErrors", users, []string{"SQL errors in the logs", "sql error", "grant_applications"}},
		{faults.HealthDBDown, "TestHealthChecks", nil, []string{"/health: status 503, want 200", `"database":"down"`}},
		{faults.AuthMeWrongUser, "TestCriticalEndpoints", nil, []string{"/auth/me", "want the spot-check user"}},
		{faults.PlatformStatusBlind + "@" + target.BackendCore, "TestErrorRate", nil, []string{
			"but the telemetry does not show what the services did", "backend-core: 0 of the 3 answered 401 on /auth/me counted"}},
		{faults.PlatformDBMetricsOff, "TestErrorRate", nil, []string{
			"but the telemetry does not show what the services did", "database: 0 new queries observed (granter_db_query_duration_seconds_count"}},
		{faults.PlatformErrorRate5pct + "@" + target.DataService, "TestErrorRate", dataServiceUsers, []string{"Step 4.5 failed: error rate", "95% lower bound", "> 0.1%: BREACHED"}},
	}
	for _, c := range cases {
		t.Run(c.fault, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			since := time.Now().Add(-time.Second)
			require.NoError(t, local.Platform.Faults.Enable(c.fault))
			t.Cleanup(func() { require.NoError(t, local.Platform.Faults.Disable(c.fault)) })
			if c.traffic != nil {
				c.traffic(ctx, t)
			}
			ch, ok := postdeploy.Lookup(c.check)
			require.True(t, ok)
			_, err := postdeploy.NewChecker(tgt, since).Run(ctx, ch, func(line string) { t.Log(line) })
			require.Error(t, err, "%s must fail with %s on", c.check, c.fault)
			t.Logf("%s failed as it must: %v", c.check, err)
			for _, want := range c.cause {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}

// dataServiceUsers: users hit a data-service that fails every 20th
// request (prom.DataServiceUsers).
func dataServiceUsers(ctx context.Context, t *testing.T) {
	t.Helper()
	require.NoError(t, prom.DataServiceUsers(ctx, tgt, 1000, 40))
}
