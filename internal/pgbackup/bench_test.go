package pgbackup_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/internal/pgbackup"
)

// BenchmarkBackupVerify1M measures checklist item 1 on a production-sized
// grants table: the dump (pg_dump -Fc inside the container, with the
// in-snapshot statistics), the restore into a scratch database and the
// comparison, each reported as its own metric (BENCHMARKS.md):
//
//	go test -run '^$' -bench BenchmarkBackupVerify1M -benchtime 3x ./internal/pgbackup
//
// The 1,000,000 rows are generated once, outside the timer, in the v1.9.0
// schema (granter.InstallBaseline) with realistic text sizes.
func BenchmarkBackupVerify1M(b *testing.B) {
	const rows = 1_000_000
	ctx := context.Background()
	src := newDB(b, "")
	pool, err := pgxpool.New(ctx, urlOf(b, src.Database))
	require.NoError(b, err)
	defer pool.Close()
	require.NoError(b, granter.InstallBaseline(ctx, pool))
	began := time.Now()
	require.NoError(b, granter.BulkGrants(ctx, pool, rows))
	b.Logf("generated %d grants in %s", rows, time.Since(began).Round(time.Millisecond))

	var size string
	require.NoError(b, pool.QueryRow(ctx, "SELECT pg_size_pretty(pg_total_relation_size('grants'))").Scan(&size))
	b.Logf("grants: %s with its indexes", size)

	var dump, stats, restore, cmp time.Duration
	var bytes int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		bk, err := pgbackup.Dump(ctx, src, dir)
		require.NoError(b, err)
		require.Equal(b, int64(rows), bk.Tables["grants"].Rows)
		v, err := pgbackup.Verify(ctx, bk, src.Server)
		require.NoError(b, err)
		dump, stats, restore, cmp, bytes = dump+bk.Duration, stats+bk.Stats, restore+v.Restore, cmp+v.Compare, bk.Size
	}
	n := float64(b.N)
	b.ReportMetric(dump.Seconds()/n, "dump-s")
	b.ReportMetric(stats.Seconds()/n, "stats-s")
	b.ReportMetric(restore.Seconds()/n, "restore-s")
	b.ReportMetric(cmp.Seconds()/n, "compare-s")
	b.ReportMetric(float64(bytes)/1e6, "MB")
}
