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

// Checklist 5: "Production secrets ready".
func TestCheckSecretKeys(t *testing.T) {
	t.Run("healthy", func(t *testing.T) {
		ns := granter(t, kubelab.WithReplicas(1))
		assert.NoError(t, kube.CheckSecretKeys(timeout(t, 5*time.Second), cluster.Clientset, ns, kubelab.SecretsName, kubelab.SecretKeys))
	})
	t.Run("missing_key_named_value_never_shown", func(t *testing.T) {
		ns := cluster.NewNamespaceT(t)
		ctx := timeout(t, 10*time.Second)
		const jwt = "s3cr3t-jwt-value-that-must-not-leak"
		require.NoError(t, kubelab.ApplyGranter(ctx, cluster.Clientset, ns, "v1.9.0", kubelab.WithReplicas(0),
			kubelab.WithSecretValues(map[string]string{"AI_PROVIDER_KEY": "", "JWT_SECRET": jwt})))
		err := kube.CheckSecretKeys(ctx, cluster.Clientset, ns, kubelab.SecretsName, kubelab.SecretKeys)
		var se *kube.SecretKeysError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, []string{"AI_PROVIDER_KEY"}, se.Missing)
		assert.Equal(t, "secret "+ns+"/granter-secrets: missing keys AI_PROVIDER_KEY (keys present: DATABASE_URL, JWT_SECRET)", err.Error())
		assert.NotContains(t, err.Error(), jwt)
		assert.NotContains(t, err.Error(), "postgres://")
	})
	t.Run("missing_secret", func(t *testing.T) {
		ns := cluster.NewNamespaceT(t)
		err := kube.CheckSecretKeys(timeout(t, 5*time.Second), cluster.Clientset, ns, "granter-secrets", []string{"JWT_SECRET"})
		require.Error(t, err)
		assert.Equal(t, "secret "+ns+"/granter-secrets: not found (expected keys JWT_SECRET)", err.Error())
	})
}

// Checklist 2/8: services healthy behind the load balancer.
func TestCheckServiceEndpoints(t *testing.T) {
	t.Run("healthy", func(t *testing.T) {
		ns := granter(t)
		ctx := timeout(t, 15*time.Second)
		for _, svc := range kubelab.Deployments {
			// EndpointSlices trail the rollout by a moment: wait on them.
			require.NoError(t, kube.WaitServiceEndpoints(ctx, cluster.Clientset, ns, svc))
			assert.NoError(t, kube.CheckServiceEndpoints(ctx, cluster.Clientset, ns, svc))
		}
	})
	t.Run("no_ready_endpoint", func(t *testing.T) {
		ns := cluster.NewNamespaceT(t)
		setup := timeout(t, 10*time.Second)
		require.NoError(t, kubelab.ApplyGranter(setup, cluster.Clientset, ns, "v1.9.0",
			kubelab.WithFault(kubelab.BackendCore, kubelab.FaultNeverReady)))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := kube.WaitServiceEndpoints(ctx, cluster.Clientset, ns, kubelab.BackendCore)
		var we *kube.WaitError
		require.ErrorAs(t, err, &we)
		assert.Contains(t, err.Error(), "timed out waiting for a ready endpoint of service "+ns+"/backend-core")
		assert.Contains(t, err.Error(), "expected at least 1 ready endpoint, seen 0 ready of")

		err = kube.CheckServiceEndpoints(setup, cluster.Clientset, ns, kubelab.BackendCore)
		var ee *kube.EndpointsError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 0, ee.Ready)
	})
	t.Run("missing_service", func(t *testing.T) {
		ns := cluster.NewNamespaceT(t)
		err := kube.CheckServiceEndpoints(timeout(t, 5*time.Second), cluster.Clientset, ns, "backend-core")
		require.Error(t, err)
		assert.Equal(t, "service "+ns+"/backend-core: service not found", err.Error())
	})
}

var hosts = []string{kubelab.APIHost, kubelab.FrontendHost}

// Checklist 8: "Routing rules configured", "TLS certificates valid".
func TestCheckIngress(t *testing.T) {
	t.Run("healthy", func(t *testing.T) {
		ns := granter(t, kubelab.WithReplicas(1))
		assert.NoError(t, kube.CheckIngress(timeout(t, 5*time.Second), cluster.Clientset, ns, kubelab.IngressName, hosts))
	})
	t.Run("host_without_tls", func(t *testing.T) {
		ns := granter(t, kubelab.WithReplicas(1))
		ctx := timeout(t, 10*time.Second)
		ic := cluster.Clientset.NetworkingV1().Ingresses(ns)
		ing, err := ic.Get(ctx, kubelab.IngressName, metav1.GetOptions{})
		require.NoError(t, err)
		ing.Spec.TLS[0].Hosts = []string{kubelab.APIHost}
		_, err = ic.Update(ctx, ing, metav1.UpdateOptions{})
		require.NoError(t, err)

		err = kube.CheckIngress(ctx, cluster.Clientset, ns, kubelab.IngressName, hosts)
		var ie *kube.IngressError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, []string{kubelab.FrontendHost}, ie.Hosts())
		assert.Contains(t, err.Error(), "host frontend.example.com: expected a TLS section covering the host, seen none (TLS hosts: api.example.com)")
	})
	t.Run("route_to_missing_service_and_unknown_host", func(t *testing.T) {
		ns := granter(t, kubelab.WithReplicas(1))
		ctx := timeout(t, 10*time.Second)
		require.NoError(t, cluster.Clientset.CoreV1().Services(ns).Delete(ctx, kubelab.DataService, metav1.DeleteOptions{}))
		err := kube.CheckIngress(ctx, cluster.Clientset, ns, kubelab.IngressName, append(hosts, "admin.example.com"))
		var ie *kube.IngressError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, []string{kubelab.APIHost, "admin.example.com"}, ie.Hosts())
		assert.Contains(t, err.Error(), `host api.example.com: path "/data" routes to service data-service, which does not exist`)
		assert.Contains(t, err.Error(), "host admin.example.com: expected a rule routing the host to a service, seen none")
	})
	t.Run("tls_secret_missing", func(t *testing.T) {
		ns := granter(t, kubelab.WithReplicas(1))
		ctx := timeout(t, 10*time.Second)
		sc := cluster.Clientset.CoreV1().Secrets(ns)
		require.NoError(t, sc.Delete(ctx, kubelab.TLSSecretName, metav1.DeleteOptions{}))
		err := kube.CheckIngress(ctx, cluster.Clientset, ns, kubelab.IngressName, hosts)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "host api.example.com: TLS secret granter-tls does not exist")
		assert.Contains(t, err.Error(), "host frontend.example.com: TLS secret granter-tls does not exist")
	})
}

// Checklist 8: "Health check settings correct".
func TestCheckProbes(t *testing.T) {
	ns := granter(t, kubelab.WithReplicas(1))
	ctx := timeout(t, 5*time.Second)
	d, err := cluster.Clientset.AppsV1().Deployments(ns).Get(ctx, kubelab.BackendCore, metav1.GetOptions{})
	require.NoError(t, err)

	t.Run("healthy", func(t *testing.T) {
		assert.NoError(t, kube.CheckProbes(d))
	})
	t.Run("wrong_path_and_missing_liveness", func(t *testing.T) {
		bad := d.DeepCopy()
		c := &bad.Spec.Template.Spec.Containers[0]
		c.ReadinessProbe.HTTPGet.Path = "/healthz"
		c.ReadinessProbe.FailureThreshold = 30
		c.LivenessProbe = nil
		err := kube.CheckProbes(bad)
		var pe *kube.ProbeError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, []string{
			`container backend-core readinessProbe: path "/healthz", expected "/health"`,
			`container backend-core readinessProbe: failureThreshold 30, expected 1..10`,
			`container backend-core livenessProbe: missing`,
		}, pe.Problems)
		assert.Contains(t, err.Error(), "deployment "+ns+"/backend-core: health check settings:")
	})
}
