package kube_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/kubelab"
	"github.com/granter/runbook/internal/kube"
)

// cluster is the one local control plane of this test package; tests
// isolate themselves with cluster.NewNamespaceT.
var cluster *kubelab.Cluster

func TestMain(m *testing.M) { kubelab.Main(m, &cluster) }

// granter deploys the Granter platform at v1.9.0 in a fresh namespace and
// waits until all three deployments are rolled out.
func granter(tb testing.TB, opts ...kubelab.GranterOption) string {
	tb.Helper()
	ns := cluster.NewNamespaceT(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(tb, kubelab.ApplyGranter(ctx, cluster.Clientset, ns, "v1.9.0", opts...))
	for _, d := range kubelab.Deployments {
		require.NoError(tb, kube.WaitRollout(ctx, cluster.Clientset, ns, d), "initial rollout of %s", d)
	}
	return ns
}

func timeout(tb testing.TB, d time.Duration) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}
