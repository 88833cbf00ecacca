//go:build !staging && !prod

package rollback_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/platform"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/rollback"
)

// The acceptance test of the ROLLBACK PROCEDURE: v2.0.0 deployed, data
// changed on it, rolled back; then the database equals the backup table by
// table, every deployment runs v1.9.0, and the smoke flows pass.
func TestRollback(t *testing.T) {
	reset(t)
	d := deploy(t, granter.V2)
	changeData(t)
	sinceMessages := len(env.Webhook.Messages())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := rollback.Run(ctx, tgt, rollback.Options{RunDir: d.runDir, Out: out(t), Smoke: smokeOptions(),
		Reason: "acceptance test", RecordPath: filepath.Join(d.runDir, "rollback.json")})
	require.NoError(t, err, "the rollback of v2.0.0")
	require.NotNil(t, res.Restored)

	t.Run("database_equals_the_backup", func(t *testing.T) {
		assertDatabaseEqualsBackup(t, d.backup)
		conn, err := pgx.Connect(ctx, tgt.Database.URL.Reveal())
		require.NoError(t, err)
		defer conn.Close(ctx)
		var after int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM grants WHERE ref = 'AFTER-BACKUP-1'`).Scan(&after))
		assert.Zero(t, after, "a grant written after the backup is gone from the live database")
		var users int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM users WHERE email = 'after-backup@smoke.example.com'`).Scan(&users))
		assert.Zero(t, users, "a user registered on v2.0.0 is gone from the live database")
		var kept bool
		require.NoError(t, conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, res.Restored.Previous).Scan(&kept))
		assert.True(t, kept, "the database as it was (%s) is kept aside, not dropped", res.Restored.Previous)
	})

	t.Run("every_deployment_runs_v1.9.0", func(t *testing.T) {
		assertOnVersion(t, granter.V1)
	})

	t.Run("smoke_passes_on_v1.9.0", func(t *testing.T) {
		require.Len(t, res.Smoke, 5, "the five flows of Step 4.1")
		for _, r := range res.Smoke {
			assert.NoError(t, r.Err(), "%s", r)
		}
	})

	t.Run("team_notified", func(t *testing.T) {
		var texts []string
		for _, m := range env.Webhook.Messages()[sinceMessages:] {
			texts = append(texts, m.Text)
		}
		require.Len(t, texts, 2, "%q", texts)
		assert.True(t, strings.HasPrefix(texts[0], "ROLLBACK IN PROGRESS"), texts[0])
		assert.True(t, strings.HasPrefix(texts[1], "ROLLBACK COMPLETE - System stable on v1.9.0"), texts[1])
	})

	t.Run("journaled_and_timed", func(t *testing.T) {
		entries, err := journal.Read(d.runDir)
		require.NoError(t, err)
		steps := map[string]string{}
		started := map[string]bool{}
		for _, e := range entries {
			if e.Phase == rollback.Phase {
				if e.Status == journal.StatusStarted {
					assert.Empty(t, steps[e.Step], "Step %s journaled started after it ended", e.Step)
					started[e.Step] = true
				}
				steps[e.Step] = e.Status
			}
		}
		assert.Equal(t, map[string]string{"1": "ok", "2": "ok", "3": "ok", "4": "ok", "5": "ok", "6": "ok", "7": "ok"}, steps)
		for _, n := range []string{"1", "2", "3", "4", "5", "6", "7"} {
			assert.True(t, started[n], "rollback Step %s journaled no \"started\" entry before acting", n)
		}
		for _, s := range res.Steps {
			assert.Positive(t, s.Duration, "step %d %s", s.N, s.Name)
			t.Logf("Step %d %-10s %s", s.N, s.Name, s.Duration.Round(time.Millisecond))
		}
		t.Logf("total %s (runbook estimate %s)", res.Total.Round(time.Millisecond), res.Budget)
		assert.Less(t, res.Total, tgt.Thresholds.RollbackBudget, "inside the runbook's estimate")
		_, err = os.Stat(filepath.Join(d.runDir, "rollback.json"))
		assert.NoError(t, err, "the rollback record for checklist item 6")
	})
}

// assertDatabaseEqualsBackup reads every table's row count and checksum
// back from the LIVE database (a fresh dump's statistics, taken in one
// snapshot) and compares them with what the backup recorded at Step 1.1.
func assertDatabaseEqualsBackup(t testing.TB, b pgbackup.Backup) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	src, err := pgbackup.SourceOf(tgt)
	require.NoError(t, err)
	now, err := pgbackup.Dump(ctx, src, t.TempDir())
	require.NoError(t, err)
	require.NotEmpty(t, b.Tables)
	var names []string
	for n := range b.Tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		want, got := b.Tables[n], now.Tables[n]
		assert.Equal(t, want.Rows, got.Rows, "table %s: rows now vs in the backup", n)
		assert.Equal(t, want.Checksum, got.Checksum, "table %s: content checksum now vs in the backup", n)
	}
	for n := range now.Tables {
		_, ok := b.Tables[n]
		assert.True(t, ok, "table %s exists now but not in the backup", n)
	}
	for _, d := range pgbackup.CompareAccess(b.Access, now.Access) {
		assert.Fail(t, "owners and privileges now vs in the backup", "%s", d)
	}
	t.Logf("%d tables, %d rows: every count and checksum equals the backup's; owners, privileges and settings of %d objects too", len(now.Tables), now.Rows(), len(now.Access))
}

// assertServicesAsAppRole: the services' sessions log in as the
// application role (which owns nothing), so the smoke flows that just
// passed read and wrote through its grants.
func assertServicesAsAppRole(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, tgt.Database.URL.Reveal())
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT DISTINCT usename::text FROM pg_stat_activity WHERE datname = $1 AND application_name = ANY($2)",
		tgt.Database.Name, []string{target.BackendCore, target.DataService, target.WebFrontend})
	require.NoError(t, err)
	users, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	assert.Equal(t, []string{platform.AppRole}, users, "the services' database sessions")
}

// assertOnVersion: every deployment's image is the version's, its rollout
// complete, and its service answers at that version.
func assertOnVersion(t *testing.T, version string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range []string{target.BackendCore, target.DataService, target.WebFrontend} {
		imgs, err := kube.CurrentImages(ctx, env.Cluster.Clientset, env.Namespace, name)
		require.NoError(t, err)
		assert.Equal(t, "granter/"+name+":"+version, imgs[name], "deployment %s", name)
		assert.NoError(t, kube.WaitRollout(ctx, env.Cluster.Clientset, env.Namespace, name))
		running, up := env.Platform.Running(name)
		assert.True(t, up, "%s serves", name)
		assert.Equal(t, version, running, "%s runs", name)
	}
	assert.NoError(t, env.BridgeErr())
}

// The rollback resumes: an interrupted one (here: Step 5 given no time)
// leaves the deployments at their previous images or at 0, and a second
// run finishes it from the same journal.
func TestRollbackRunsAgainAfterAFailure(t *testing.T) {
	reset(t)
	d := deploy(t, granter.V2)
	saved := tgt.Thresholds.RolloutTimeout
	tgt.Thresholds.RolloutTimeout = time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, err := rollback.Run(ctx, tgt, rollback.Options{RunDir: d.runDir, Out: out(t), Smoke: smokeOptions()})
	tgt.Thresholds.RolloutTimeout = saved
	require.Error(t, err)
	var ec *exitcode.Error
	require.ErrorAs(t, err, &ec)
	assert.Equal(t, exitcode.Rollback, ec.Code)
	assert.Contains(t, err.Error(), "Step 2", "the step that failed is named: %v", err)

	res, err := rollback.Run(ctx, tgt, rollback.Options{RunDir: d.runDir, Out: out(t), Smoke: smokeOptions()})
	require.NoError(t, err, "the second run finishes the rollback")
	for _, img := range res.Plan.Images {
		assert.Equal(t, int32(2), img.Replicas, "%s: scaled back to the replicas the first run recorded (%s)", img.Deployment, img.ReplicasFrom)
	}
	assertDatabaseEqualsBackup(t, d.backup)
	assertOnVersion(t, granter.V1)
}

// A rollback killed in the middle of its database switch (after refusing
// connections, before the rename) leaves granter_db refusing every
// connection and the restored copy behind; the next `make rollback` says
// so, repairs it and completes (issue 12, item 3).
func TestSecondRollbackRepairsAKilledSwitch(t *testing.T) {
	reset(t)
	d := deploy(t, granter.V2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	src, err := pgbackup.SourceOf(tgt)
	require.NoError(t, err)
	maintenance, err := src.URLFor(pgbackup.MaintenanceDB)
	require.NoError(t, err)
	conn, err := pgx.Connect(ctx, maintenance.Reveal())
	require.NoError(t, err)
	db := pgx.Identifier{tgt.Database.Name}.Sanitize()
	leftover := tgt.Database.Name + "_restore_0badf00d"
	_, err = conn.Exec(ctx, "ALTER DATABASE "+db+" WITH ALLOW_CONNECTIONS false")
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{leftover}.Sanitize()+" TEMPLATE template0")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	_, err = pgx.Connect(ctx, tgt.Database.URL.Reveal())
	require.ErrorContains(t, err, "not currently accepting connections", "the state a killed switch leaves")

	var buf strings.Builder
	res, err := rollback.Run(ctx, tgt, rollback.Options{RunDir: d.runDir, Out: io.MultiWriter(out(t), &buf), Smoke: smokeOptions(),
		Reason: "second rollback after a killed switch", RecordPath: filepath.Join(d.runDir, "rollback.json")})
	require.NoError(t, err, "the second rollback completes")
	require.NotNil(t, res.Restored)
	assert.Contains(t, buf.String(), "an earlier switch was interrupted: "+tgt.Database.Name+" was refusing connections")
	assert.Contains(t, buf.String(), "dropped "+leftover)
	assertDatabaseEqualsBackup(t, d.backup)
	assertOnVersion(t, granter.V1)
	for _, r := range res.Smoke {
		assert.NoError(t, r.Err(), "%s", r)
	}
	entries, err := journal.Read(d.runDir)
	require.NoError(t, err)
	recorded := ""
	for _, e := range entries {
		if e.Phase == rollback.Phase && e.Step == "3" {
			recorded += e.Data["database.recovered"]
		}
	}
	assert.Contains(t, recorded, "connections allowed again", "the journal records the repair")
}
