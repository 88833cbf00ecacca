//go:build !staging && !prod

package rollbackprep_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/kubelab"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/rollbackprep"
)

// The fault tests run locally only: each breaks what one sub-item guards.

// run runs item 6 on a copy of the target changed by edit.
func run(t *testing.T, edit func(tg *target.Target)) flow.Result {
	t.Helper()
	tg := *tgt
	k := *tgt.Kube
	tg.Kube = &k
	if edit != nil {
		edit(&tg)
	}
	return flow.Run(t.Context(), rollbackprep.New(&tg))
}

// namespaceAt makes a scratch namespace with the Granter objects, every
// deployment at version and then changed by images (deployment -> tag),
// rolled out. The platform's own namespace stays as it is.
func namespaceAt(t *testing.T, version string, images map[string]string) string {
	t.Helper()
	ns := env.Cluster.NewNamespaceT(t)
	cs := env.Cluster.Clientset
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, kubelab.ApplyGranter(ctx, cs, ns, version, kubelab.WithReplicas(1)))
	for d, tag := range images {
		require.NoError(t, kube.WaitRollout(ctx, cs, ns, d))
		require.NoError(t, kube.SetImage(ctx, cs, ns, d, d, "granter/"+d+":"+tag))
	}
	for _, d := range kubelab.Deployments {
		require.NoError(t, kube.WaitRollout(ctx, cs, ns, d))
	}
	return ns
}

func TestRollbackPreparationFaults(t *testing.T) {
	localenv.RequireStarted(t, env)
	v := tgt.Version
	t.Run("backup altered after verification", func(t *testing.T) {
		dir := t.TempDir()
		b, err := pgbackup.LatestVerified(tgt.Backup.Dir, tgt.Database.Name)
		require.NoError(t, err)
		for _, p := range []string{b.Path, b.ManifestPath()} {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(p)), data, 0o600))
		}
		f, err := os.OpenFile(filepath.Join(dir, filepath.Base(b.Path)), os.O_RDWR, 0)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("garbage garbage garbage"), b.Size/2)
		require.NoError(t, errorsJoin(err, f.Close()))
		res := run(t, func(tg *target.Target) { tg.Backup.Dir = dir })
		checklist.AssertOnlyFails(t, res, rollbackprep.ScriptsPrepared, "the rollback's dry run fails", "rollback refused", filepath.Base(b.Path))
	})
	t.Run("no team channel", func(t *testing.T) {
		res := run(t, func(tg *target.Target) { tg.Webhook = nil })
		checklist.AssertOnlyFails(t, res, rollbackprep.ScriptsPrepared, "no team channel", "ROLLBACK IN PROGRESS")
	})
	t.Run("mixed versions", func(t *testing.T) {
		ns := namespaceAt(t, granter.V1, map[string]string{kubelab.WebFrontend: granter.V2})
		res := run(t, func(tg *target.Target) { tg.Kube.Namespace = ns })
		checklist.AssertOnlyFails(t, res, rollbackprep.PreviousVersion, "the services run mixed versions",
			"v1.9.0 on backend-core, data-service", "v2.0.0 on web-frontend")
	})
	t.Run("no previous version running", func(t *testing.T) {
		ns := namespaceAt(t, v, nil)
		res := run(t, func(tg *target.Target) { tg.Kube.Namespace = ns })
		checklist.AssertOnlyFails(t, res, rollbackprep.PreviousVersion, "the services already run "+v, "nothing to return to")
	})
	t.Run("no drill record", func(t *testing.T) {
		res := run(t, func(tg *target.Target) {
			tg.Staging.RollbackRecord = filepath.Join(t.TempDir(), "staging-rollback-{version}.json")
		})
		checklist.AssertOnlyFails(t, res, rollbackprep.TestedOnStaging, "no record of a rollback drill of "+v+" on staging", "make rollback ENV=staging")
	})
	t.Run("drill failed", func(t *testing.T) {
		rec := preflightlab.StagingRollback(v, granter.V1, time.Now().Add(-time.Hour))
		rec.Result, rec.Problems = "failed", []string{"step 6 smoke: search flow failed"}
		res := run(t, func(tg *target.Target) {
			tg.Staging.RollbackRecord = filepath.Join(t.TempDir(), "drill.json")
			require.NoError(t, checklist.WriteJSON(tg.Staging.RollbackRecord, rec))
		})
		checklist.AssertOnlyFails(t, res, rollbackprep.TestedOnStaging, `its result is "failed", not succeeded`, "search flow failed")
	})
	t.Run("drill of another version, long ago", func(t *testing.T) {
		rec := preflightlab.StagingRollback("v1.9.0", "v1.8.0", time.Now().Add(-30*24*time.Hour))
		res := run(t, func(tg *target.Target) {
			tg.Staging.RollbackRecord = filepath.Join(t.TempDir(), "drill.json")
			require.NoError(t, checklist.WriteJSON(tg.Staging.RollbackRecord, rec))
		})
		checklist.AssertOnlyFails(t, res, rollbackprep.TestedOnStaging, `it rolled back "v1.9.0", not `+v, "older than 168h0m0s")
	})
	t.Run("estimate over budget", func(t *testing.T) {
		res := run(t, func(tg *target.Target) { tg.Thresholds.RollbackBudget = time.Minute })
		checklist.AssertOnlyFails(t, res, rollbackprep.EstimatedTime, "is over the runbook's 1m0s (thresholds.rollbackBudget)",
			"scale-down 32s (staging drill)", "database restore", "/s measured verifying backup-", "rollout", "smoke tests 1m35s (staging drill)")
	})
}

func errorsJoin(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
