package kube_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/granter/runbook/internal/kube"
)

// drainingDataService is a deployment scaled to 0 whose two pods are still
// terminating.
func drainingDataService() *fake.Clientset {
	labels := map[string]string{"app": "data-service"}
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "granter", Labels: labels},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	}
	return fake.NewClientset(
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "data-service", Namespace: "granter"},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}}},
		pod("data-service-a"), pod("data-service-b"),
	)
}

func TestWaitNoPods_returnsWhenTheLastPodIsGone(t *testing.T) {
	cs := drainingDataService()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- kube.WaitNoPods(ctx, cs, "granter", "data-service") }()
	for _, p := range []string{"data-service-a", "data-service-b"} {
		require.NoError(t, cs.CoreV1().Pods("granter").Delete(ctx, p, metav1.DeleteOptions{}))
	}
	require.NoError(t, <-done)
}

func TestWaitNoPods_timeoutNamesThePodsLeftFake(t *testing.T) {
	cs := drainingDataService()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := kube.WaitNoPods(ctx, cs, "granter", "data-service")
	var we *kube.WaitError
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "no pods left for deployment granter/data-service (selector app=data-service)")
	assert.Contains(t, err.Error(), "2 pods left: data-service-a")
}
