//go:build !staging && !prod

package envcheck_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/envcheck"
)

// The fault tests run locally only: each breaks what one sub-item guards.

// run runs item 5 on a copy of the target changed by edit.
func run(t *testing.T, edit func(tg *target.Target), opts ...envcheck.Option) flow.Result {
	t.Helper()
	tg := *tgt
	k := *tgt.Kube
	tg.Kube = &k
	if edit != nil {
		edit(&tg)
	}
	return flow.Run(t.Context(), envcheck.New(&tg, append(opts, envcheck.WithBackupDir(t.TempDir()))...))
}

func writeRecord(t *testing.T, name string, v any) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, checklist.WriteJSON(p, v))
	return p
}

func TestEnvironmentValidationFaults(t *testing.T) {
	v := tgt.Version
	t.Run("staging on another version", func(t *testing.T) {
		rec := preflightlab.StagingDeploy(tgt, granter.V1)
		res := run(t, func(tg *target.Target) { tg.Staging.DeployRecord = writeRecord(t, "deploy.json", rec) })
		checklist.AssertOnlyFails(t, res, envcheck.StagingDeployment,
			"staging backend-core runs granter/backend-core:v1.9.0, not granter/backend-core:"+v)
	})
	t.Run("staging deployment failed", func(t *testing.T) {
		rec := preflightlab.StagingDeploy(tgt, v)
		rec.Status = "failed"
		res := run(t, func(tg *target.Target) { tg.Staging.DeployRecord = writeRecord(t, "deploy.json", rec) })
		checklist.AssertOnlyFails(t, res, envcheck.StagingDeployment, `has status "failed", not succeeded`)
	})
	t.Run("no staging smoke record", func(t *testing.T) {
		res := run(t, func(tg *target.Target) {
			tg.Staging.SmokeRecord = filepath.Join(t.TempDir(), "staging-smoke-{version}.json")
		})
		checklist.AssertOnlyFails(t, res, envcheck.StagingSmoke, "no record of a staging smoke run of "+v, "record-smoke")
	})
	t.Run("staging smoke run failed", func(t *testing.T) {
		rec := preflightlab.StagingSmoke(v)
		rec.Flows["TestScraper"], rec.Passed = "failed", false
		res := run(t, func(tg *target.Target) {
			tg.Staging.SmokeRecord = filepath.Join(t.TempDir(), "smoke-{version}.json")
			require.NoError(t, checklist.WriteJSON(tg.Staging.SmokeRecordFor(v), rec))
		})
		checklist.AssertOnlyFails(t, res, envcheck.StagingSmoke, "does not pass", "TestScraper failed")
	})
	t.Run("staging smoke run of another version", func(t *testing.T) {
		rec := preflightlab.StagingSmoke(granter.V1)
		res := run(t, func(tg *target.Target) {
			tg.Staging.SmokeRecord = filepath.Join(t.TempDir(), "smoke.json") // one file for every version
			require.NoError(t, checklist.WriteJSON(tg.Staging.SmokeRecord, rec))
		})
		checklist.AssertOnlyFails(t, res, envcheck.StagingSmoke, "it is for v1.9.0, not "+v)
	})
	t.Run("missing secret key", func(t *testing.T) {
		ns := namespaceWithSecret(t, map[string]string{"DATABASE_URL": "postgres://x", "AI_PROVIDER_KEY": "k"})
		res := run(t, func(tg *target.Target) { tg.Kube.Namespace = ns })
		checklist.AssertOnlyFails(t, res, envcheck.SecretsReady, "secret "+ns+"/granter-secrets: missing keys JWT_SECRET")
	})
	t.Run("no Kubernetes access", func(t *testing.T) {
		res := run(t, func(tg *target.Target) { tg.Kube = nil })
		checklist.AssertOnlyFails(t, res, envcheck.SecretsReady, "no Kubernetes access configured")
	})
	t.Run("pending migrations differ from the expected six", func(t *testing.T) {
		res := run(t, func(tg *target.Target) {
			tg.Migrations.Expected = append(append([]string(nil), tgt.Migrations.Expected[:5]...), "20260201000000")
		})
		checklist.AssertOnlyFails(t, res, envcheck.MigrationsReady,
			"the migrations pending on granter_db are not the expected ones", "unexpected: 20260128001000", "20260201000000")
	})
	t.Run("a migration fails on the restored copy", func(t *testing.T) {
		res := run(t, nil, envcheck.WithMigratorEnv("GRANTER_FAULTS=platform.migration-fails"))
		checklist.AssertOnlyFails(t, res, envcheck.MigrationsReady,
			"do not apply to a copy of granter_db restored from backup-", "20260127000300", `relation "scrape_job" does not exist`)
	})
}

// namespaceWithSecret creates a namespace holding granter-secrets with
// only the keys given, in the local cluster.
func namespaceWithSecret(t *testing.T, data map[string]string) string {
	t.Helper()
	cs := clientset(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "secrets-fault-"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	_, err = cs.CoreV1().Secrets(ns.Name).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "granter-secrets"}, StringData: data}, metav1.CreateOptions{})
	require.NoError(t, err)
	return ns.Name
}

func clientset(t *testing.T) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", tgt.Kube.Kubeconfig)
	require.NoError(t, err)
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	return cs
}
