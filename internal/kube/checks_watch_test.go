package kube_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/granter/runbook/internal/kube"
)

// notReadyBackendCore is service backend-core with one endpoint, not ready.
func notReadyBackendCore() (*fake.Clientset, *discoveryv1.EndpointSlice) {
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "backend-core-x1", Namespace: "granter",
			Labels: map[string]string{discoveryv1.LabelServiceName: "backend-core"}},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.7"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}}},
	}
	return fake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "backend-core", Namespace: "granter"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "backend-core"}}},
		slice,
	), slice
}

func TestWaitServiceEndpoints_returnsOnceAnEndpointIsReady(t *testing.T) {
	cs, slice := notReadyBackendCore()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- kube.WaitServiceEndpoints(ctx, cs, "granter", "backend-core") }()
	ready := slice.DeepCopy()
	ready.Endpoints[0].Conditions.Ready = ptr.To(true)
	_, err := cs.DiscoveryV1().EndpointSlices("granter").Update(ctx, ready, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.NoError(t, <-done)
}

func TestWaitServiceEndpoints_timeoutSaysTheLastCheck(t *testing.T) {
	cs, _ := notReadyBackendCore()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := kube.WaitServiceEndpoints(ctx, cs, "granter", "backend-core")
	var we *kube.WaitError
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "timed out waiting for a ready endpoint of service granter/backend-core")
	assert.Contains(t, err.Error(), "expected at least 1 ready endpoint, seen 0 ready of 1")
}
