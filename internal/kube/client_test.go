package kube_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

// Lazy connects once: every call returns the client the first one built.
func TestLazyBuildsOnce(t *testing.T) {
	var l kube.Lazy
	tgt := &target.Target{File: "environments/local.yaml", Kube: &target.Kube{Kubeconfig: cluster.Kubeconfig, Namespace: "granter"}}
	cs, ns, err := l.Of(tgt, "")
	require.NoError(t, err)
	assert.Equal(t, "granter", ns)
	again, err := l.Get("/nonexistent/kubeconfig", "")
	require.NoError(t, err, "the second call reuses the first client")
	assert.Same(t, cs, again)
	_, err = cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{Limit: 1})
	require.NoError(t, err)
}

func TestLazyErrors(t *testing.T) {
	var l kube.Lazy
	_, _, err := l.Of(&target.Target{File: "environments/prod.yaml"}, ": the load balancer's configuration cannot be read")
	require.EqualError(t, err, "no Kubernetes access configured (no kube: section in environments/prod.yaml): the load balancer's configuration cannot be read")
	_, err = l.Get("/nonexistent/kubeconfig", "prod")
	require.ErrorContains(t, err, `kubeconfig "/nonexistent/kubeconfig" (context "prod")`)
	_, err = kube.ForTarget(&target.Target{File: "environments/prod.yaml"})
	require.EqualError(t, err, "the target has no Kubernetes access (no kube: section in environments/prod.yaml)")
}

func ExampleDescribe() {
	tgt := &target.Target{Kube: &target.Kube{Kubeconfig: "/etc/granter/kubeconfig", Context: "prod", Namespace: "granter"}}
	fmt.Println(kube.Describe(tgt) + " rollout status deployment/backend-core")
	// Output: kubectl --kubeconfig /etc/granter/kubeconfig --context prod -n granter rollout status deployment/backend-core
}
