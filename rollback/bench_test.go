//go:build !staging && !prod

package rollback_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/rollback"
)

// BenchmarkRollback1M measures the ROLLBACK PROCEDURE on a production-sized
// database: 1,000,000 grants (plus the seed), deployed to v2.0.0 (Step
// 1.1's verified backup, the six migrations, the images), then rolled back.
// Each step is a metric, and the total is compared with the runbook's
// estimate of 15 minutes (BENCHMARKS.md):
//
//	go test -run '^$' -bench BenchmarkRollback1M -benchtime 1x -timeout 60m ./rollback
//
// The rows are generated and the deployment made outside the timer: the
// timer covers the rollback alone, Steps 1 to 7. Step 6 runs the five smoke
// flows on v1.9.0: its search has no full-text index (v2.0.0's migration
// adds it), so a million rows make it slow; its result is logged and
// reported (smoke-ok), not hidden.
func BenchmarkRollback1M(b *testing.B) {
	const rows = 1_000_000
	reset(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, tgt.Database.URL.Reveal())
	require.NoError(b, err)
	began := time.Now()
	require.NoError(b, granter.BulkGrants(ctx, conn, rows))
	var size string
	require.NoError(b, conn.QueryRow(ctx, "SELECT pg_size_pretty(pg_database_size(current_database()))").Scan(&size))
	conn.Close(ctx)
	b.Logf("generated %d grants in %s; granter_db is %s", rows, time.Since(began).Round(time.Millisecond), size)

	steps := map[string]time.Duration{}
	var total time.Duration
	smokeOK := 1.0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		began := time.Now()
		d := deploy(b, granter.V2)
		b.Logf("deployed v2.0.0 (backup %s, migrations, images) in %s", d.backup.Path, time.Since(began).Round(time.Millisecond))
		b.StartTimer()
		res, err := rollback.Run(ctx, tgt, rollback.Options{RunDir: d.runDir, Out: out(b), Smoke: smokeOptions()})
		b.StopTimer()
		if err != nil {
			s, _ := res.Step("smoke")
			if s.Err == nil {
				require.NoError(b, err, "the rollback failed before its smoke step")
			}
			smokeOK = 0
			b.Logf("Step 6 failed on v1.9.0 with 1M grants: %v", s.Err)
		}
		for _, s := range res.Steps {
			steps[s.Name] += s.Duration
		}
		total += res.Total
		assertDatabaseEqualsBackup(b, d.backup)
		assertVersionTB(b)
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	for _, name := range []string{"notify", "scale-down", "restore", "set-image", "rollout", "smoke"} {
		b.ReportMetric(steps[name].Seconds()/n, name+"-s")
	}
	b.ReportMetric(total.Seconds()/n, "total-s")
	b.ReportMetric(tgt.Thresholds.RollbackBudget.Seconds(), "budget-s")
	b.ReportMetric(smokeOK, "smoke-ok")
	reset(b)
}

// assertVersionTB is assertOnVersion for a benchmark.
func assertVersionTB(b *testing.B) {
	for _, name := range []string{"backend-core", "data-service", "web-frontend"} {
		running, up := env.Platform.Running(name)
		require.True(b, up, "%s serves", name)
		require.Equal(b, granter.V1, running, "%s runs", name)
	}
}
