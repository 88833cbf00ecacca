package kube_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/fixtures/kubelab"
	"github.com/granter/runbook/internal/kube"
)

// Step 1.3: kubectl scale deployment/backend-core --replicas=0, wait for
// graceful shutdown; and back.
func TestScale(t *testing.T) {
	ns := granter(t)
	cs := cluster.Clientset
	const name = kubelab.BackendCore

	t.Run("to_zero_leaves_no_pods", func(t *testing.T) {
		ctx := timeout(t, 20*time.Second)
		require.NoError(t, kube.ScaleAndWait(ctx, cs, ns, name, 0))
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		require.NoError(t, err)
		assert.Empty(t, pods.Items)
		s, err := cs.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, int32(0), s.Spec.Replicas)
	})
	t.Run("back_to_two_is_available", func(t *testing.T) {
		ctx := timeout(t, 20*time.Second)
		require.NoError(t, kube.ScaleAndWait(ctx, cs, ns, name, 2))
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, int32(2), d.Status.AvailableReplicas)
	})
}

func TestWaitNoPods_timeoutNamesThePodsLeft(t *testing.T) {
	ns := granter(t, kubelab.WithReplicas(2))
	ctx := timeout(t, 500*time.Millisecond)
	err := kube.WaitNoPods(ctx, cluster.Clientset, ns, kubelab.DataService) // never scaled down
	var we *kube.WaitError
	require.ErrorAs(t, err, &we)
	assert.Contains(t, err.Error(), "no pods left for deployment "+ns+"/data-service")
	assert.Contains(t, err.Error(), "2 pods left: data-service-")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestScale_missingDeploymentSaysWhich(t *testing.T) {
	ns := cluster.NewNamespaceT(t)
	err := kube.Scale(timeout(t, 5*time.Second), cluster.Clientset, ns, "nope", 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "scale deployment "+ns+"/nope to 0")
}
