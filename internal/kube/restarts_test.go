package kube_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/internal/kube"
)

// A container that restarted is found with its count, how it ended, and
// the panic from its previous log (`kubectl logs --previous`); a restart
// before the window is not; healthy pods have none.
func TestRestartsReadThePreviousContainer(t *testing.T) {
	ns := granter(t)
	ctx := timeout(t, time.Minute)
	cs := cluster.Clientset
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=backend-core"})
	require.NoError(t, err)
	require.NotEmpty(t, pods.Items)

	got, err := kube.Restarts(ctx, cs, ns, "app=backend-core", time.Time{})
	require.NoError(t, err)
	assert.Empty(t, got, "healthy pods have no restart")

	pod := pods.Items[0].Name
	since := time.Now().Add(-time.Second)
	require.NoError(t, cluster.RestartContainer(ctx, ns, pod, "backend-core", "Error", 2,
		`{"level":"info","msg":"serving"}`,
		"panic: runtime error: invalid memory address or nil pointer dereference",
		"goroutine 1 [running]:"))

	got, err = kube.Restarts(ctx, cs, ns, "app=backend-core", since)
	require.NoError(t, err)
	require.Len(t, got, 1, "the restarted container: %v", got)
	r := got[0]
	assert.Equal(t, pod, r.Pod)
	assert.EqualValues(t, 1, r.Count)
	assert.Equal(t, "Error", r.Reason)
	require.NoError(t, r.LogErr)
	assert.Len(t, r.Previous, 3, "the previous container's log is read")
	s := r.String()
	for _, want := range []string{"pod " + pod, "container backend-core", "restarted 1 time", "Error, exit code 2", "line 2: panic: runtime error"} {
		assert.Contains(t, s, want)
	}

	got, err = kube.Restarts(context.Background(), cs, ns, "app=backend-core", time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.Empty(t, got, "a restart before the window is not a finding")

	require.NoError(t, cluster.ClearRestarts(ctx, ns, pod))
	got, err = kube.Restarts(ctx, cs, ns, "app=backend-core", time.Time{})
	require.NoError(t, err)
	assert.Empty(t, got)
}
