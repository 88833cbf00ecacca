//go:build !staging && !prod

package postdeploy_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/postdeploy"
)

// A v2 pod that panicked and restarted: its current log is clean, the
// panic is in its previous container's log. Step 4.2 reads the restart
// counts and the previous log, and fails naming the pod and the panic
// line; the same platform without the restart passes.
func TestLogsFindARestartedPod(t *testing.T) {
	if local == nil {
		t.Skip("needs the cluster of a platform this process started; unset RUNBOOK_LOCAL_TARGET")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	since := time.Now().Add(-time.Second)
	_, err := postdeploy.SendTraffic(ctx, tgt, 30) // log lines to scan
	require.NoError(t, err)
	ch, ok := postdeploy.Lookup(phase4.Logs.Test)
	require.True(t, ok)

	ev, err := postdeploy.NewChecker(tgt, since).Run(ctx, ch, func(line string) { t.Log(line) })
	require.NoError(t, err, "a healthy platform passes Step 4.2")
	assert.Equal(t, "0", ev.Data[journal.KeyRestarts])

	pod, err := local.PanicRestart(ctx, target.BackendCore)
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer ccancel()
		require.NoError(t, local.Cluster.ClearRestarts(cctx, local.Namespace, pod))
	})
	require.NoError(t, err)
	ev, err = postdeploy.NewChecker(tgt, since).Run(ctx, ch, func(line string) { t.Log(line) })
	require.Error(t, err, "Step 4.2 must fail on a restarted pod")
	t.Logf("Step 4.2 failed as it must: %v", err)
	for _, want := range []string{"container restart", "pod " + pod, "restarted 1 time", "Error, exit code 2", localenv.PanicLine} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Equal(t, "1", ev.Data[journal.KeyRestarts])
	assert.Contains(t, ev.Data[journal.KeyRestartsSample], pod)
}
