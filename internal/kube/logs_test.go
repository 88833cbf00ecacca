package kube_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/fixtures/kubelab"
	"github.com/granter/runbook/internal/kube"
)

var allowlist = []*regexp.Regexp{regexp.MustCompile(`ERROR .*cache miss \(expected\)`)}

// Monitoring: "Error rate baseline established", read from the pods' logs
// through the API as `kubectl logs -l app=backend-core` would.
func TestPodLogs_scanFindsPlantedErrorAndIgnoresAllowlisted(t *testing.T) {
	ns := granter(t)
	cs := cluster.Clientset
	ctx := timeout(t, 30*time.Second)
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=backend-core"})
	require.NoError(t, err)
	require.Len(t, pods.Items, 2)
	healthy, broken := pods.Items[0].Name, pods.Items[1].Name
	if healthy > broken {
		healthy, broken = broken, healthy
	}
	cluster.PlantPodLogT(t, ns, healthy, "backend-core",
		`{"level":"info","msg":"listening on :3001"}`,
		`2026-11-26T14:20:00Z ERROR token cache miss (expected) user=42`,
	)
	cluster.PlantPodLogT(t, ns, broken, "backend-core",
		`{"level":"info","msg":"listening on :3001"}`,
		`{"level":"error","msg":"relation \"grants\" does not exist","migration":"20260128001000"}`,
		`2026-11-26T14:20:01Z ERROR token cache miss (expected) user=43`,
	)

	lines, err := kube.PodLogs(ctx, cs, ns, "app=backend-core", kube.LogOptions{})
	require.NoError(t, err)
	require.Len(t, lines, 5, "every planted line read back through the API")

	t.Run("healthy_pod_has_no_findings", func(t *testing.T) {
		var mine []kube.LogLine
		for _, l := range lines {
			if l.Pod == healthy {
				mine = append(mine, l)
			}
		}
		assert.Empty(t, kube.ScanErrors(mine, allowlist))
	})
	t.Run("planted_error_found_allowlisted_ignored", func(t *testing.T) {
		f := kube.ScanErrors(lines, allowlist)
		require.Len(t, f, 1, "findings: %v", f)
		assert.Equal(t, broken, f[0].Pod)
		assert.Equal(t, "backend-core", f[0].Container)
		assert.Equal(t, 2, f[0].Line)
		assert.Contains(t, f[0].String(), `relation \"grants\" does not exist`)
	})
	t.Run("tail_reads_the_last_lines", func(t *testing.T) {
		tail, err := kube.PodLogs(ctx, cs, ns, "app=backend-core", kube.LogOptions{TailLines: 1})
		require.NoError(t, err)
		require.Len(t, tail, 2)
		assert.Contains(t, tail[1].Text, "user=43")
	})
}

func TestPodLogs_noMatchingPodIsAnError(t *testing.T) {
	ns := cluster.NewNamespaceT(t)
	_, err := kube.PodLogs(timeout(t, 5*time.Second), cluster.Clientset, ns, "app=backend-core", kube.LogOptions{})
	var np *kube.NoPodsError
	require.ErrorAs(t, err, &np)
	assert.Equal(t, `namespace `+ns+`: expected pods matching "app=backend-core", seen none`, err.Error())
}

func TestPodLogs_unreadableLogIsReportedNotSwallowed(t *testing.T) {
	ns := granter(t, kubelab.WithReplicas(1))
	// No log planted: kwok's kubelet API has nothing to serve.
	_, err := kube.PodLogs(timeout(t, 10*time.Second), cluster.Clientset, ns, "app=web-frontend", kube.LogOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "logs of "+ns+"/web-frontend-")
}

func TestIsErrorLine(t *testing.T) {
	for line, want := range map[string]bool{
		`2026-11-26 ERROR db: connection refused`:              true,
		`{"level":"error","msg":"x"}`:                          true,
		`{"level":"ERROR","msg":"x"}`:                          true,
		`{"severity":"FATAL","msg":"x"}`:                       true,
		`{"level":50,"msg":"pino error"}`:                      true,
		`{"level":30,"msg":"pino info ERROR"}`:                 false,
		`time=1 level=error msg="boom"`:                        true,
		`panic: runtime error: index out of range`:             true,
		`{"level":"info","msg":"ERROR budget is fine"}`:        false, // JSON level wins over the token
		`INFO all good`:                                        false,
		`INFO errors=0 TERRORS none`:                           false,
		`{"level":"warn","msg":"retrying after error"}`:        false,
		`WARN deprecated flag --error-rate, use --error-ratio`: false,
	} {
		assert.Equal(t, want, kube.IsErrorLine(line), "%q", line)
	}
}

func TestScanErrors_lines(t *testing.T) {
	lines := []kube.LogLine{
		{Pod: "p", Container: "c", Number: 1, Text: "INFO ok"},
		{Pod: "p", Container: "c", Number: 2, Text: "ERROR token cache miss (expected)"},
		{Pod: "p", Container: "c", Number: 3, Text: `{"level":"ERROR","msg":"jwt: signature invalid"}`},
	}
	assert.Empty(t, kube.ScanErrors(lines[:2], allowlist), "healthy: only an allowlisted ERROR")
	f := kube.ScanErrors(lines, allowlist)
	require.Len(t, f, 1)
	assert.Equal(t, kube.Finding{Pod: "p", Container: "c", Line: 3, Excerpt: `{"level":"ERROR","msg":"jwt: signature invalid"}`}, f[0])
}
