//go:build !staging && !prod

package infra_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/fixtures/faults"
	"github.com/granter/runbook/fixtures/kubelab"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/wait"
	"github.com/granter/runbook/preflight/infra"
)

// The fault tests run locally only: each breaks what one sub-item guards,
// on the package's one local platform, and puts it back (t.Cleanup).

func TestInfrastructureCheckFaults(t *testing.T) {
	localenv.RequireStarted(t, env)
	ns := env.Namespace

	t.Run("unhealthy service", func(t *testing.T) {
		fault(t, faults.HealthDBDown+"@"+faults.BackendCore)
		res := flow.Run(t.Context(), infra.New(tgt))
		checklist.AssertOnlyFails(t, res, infra.ServicesHealthy, "backend-core", "503", `"database":"down"`)
	})

	t.Run("unavailable deployment", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cs := env.Cluster.Clientset
		require.NoError(t, kubelab.SetFault(ctx, cs, ns, kubelab.WebFrontend, kubelab.FaultNeverReady))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			require.NoError(t, kubelab.SetFault(ctx, cs, ns, kubelab.WebFrontend, kubelab.FaultNone))
			require.NoError(t, kube.WaitRollout(ctx, cs, ns, kubelab.WebFrontend))
		})
		waitNewPodNotReady(t, ctx, kubelab.WebFrontend)
		res := flow.Run(t.Context(), infra.New(tgt))
		checklist.AssertOnlyFails(t, res, infra.ServicesHealthy,
			"deployment "+ns+"/web-frontend is not available", "rollout not complete", "runbook.granter/never-ready")
	})

	t.Run("scrape target down", func(t *testing.T) {
		// Cleanups run last first: the fault goes off, then its target is
		// scraped up again.
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, env.Prom.WaitScraped(ctx, "data-service"))
		})
		fault(t, faults.PlatformMetricsDown+"@"+faults.DataService)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		_, err := env.Prom.WaitValue(ctx, `up{job="data-service"}`, "== 0", func(v float64) bool { return v == 0 })
		require.NoError(t, err)
		res := flow.Run(t.Context(), infra.New(tgt))
		checklist.AssertOnlyFails(t, res, infra.MonitoringEnabled, "scrape target down: job=data-service", "health=down", "500")
	})

	t.Run("no recent logs", func(t *testing.T) {
		fault(t, faults.PlatformNoLogs)
		// A window that starts after the logs went silent: wait until
		// Prometheus (which scrapes every service every second, each
		// scrape a request the services would log) has evaluated past it.
		const window = 3 * time.Second
		silent := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		require.NoError(t, env.Prom.WaitEvaluated(ctx, silent.Add(window+time.Second)))
		res := flow.Run(t.Context(), infra.New(tgt, infra.WithLogWindow(window)))
		checklist.AssertOnlyFails(t, res, infra.LoggingOperational,
			"backend-core: its pods wrote no log line in the last 3s", "data-service", "web-frontend", "logging is not operational")
	})

	t.Run("missing alert rule", func(t *testing.T) {
		env.EditAlertRulesT(t, func(rules []map[string]any) []map[string]any {
			var keep []map[string]any
			for _, r := range rules {
				if r["alert"] != metrics.AlertLatencyP95High {
					keep = append(keep, r)
				}
			}
			return keep
		})
		res := flow.Run(t.Context(), infra.New(tgt))
		checklist.AssertOnlyFails(t, res, infra.AlertsConfigured, "alert rule GranterLatencyP95High is not loaded",
			"loaded: GranterErrorRateCritical, GranterErrorRateWarning")
	})
}

// fault switches a platform fault on until the test ends.
func fault(t *testing.T, spec string) {
	t.Helper()
	require.NoError(t, env.Platform.Faults.Enable(spec))
	t.Cleanup(func() { require.NoError(t, env.Platform.Faults.Disable(spec)) })
}

// waitNewPodNotReady waits until the deployment's newest ReplicaSet has a
// pod that is not ready, so the check sees the stuck rollout.
func waitNewPodNotReady(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	cs := env.Cluster.Clientset
	// Until ctx's deadline, the limit when it is under a minute.
	err := wait.Poll(ctx, "deployment "+name+": an unready pod in the newest ReplicaSet", 100*time.Millisecond, time.Minute,
		func(ctx context.Context) (bool, string, error) {
			d, err := cs.AppsV1().Deployments(env.Namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error(), nil
			}
			if d.Status.ObservedGeneration < d.Generation {
				return false, fmt.Sprintf("generation %d not observed yet", d.Generation), nil
			}
			pods, err := kube.NewestReplicaSetPodProblems(ctx, cs, d)
			if err == nil && len(pods) > 0 && strings.Contains(pods[0].Message, "never-ready") {
				return true, "", nil
			}
			return false, fmt.Sprint(pods, err), nil
		})
	require.NoError(t, err)
}
