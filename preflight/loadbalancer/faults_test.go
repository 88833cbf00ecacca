//go:build !staging && !prod

package loadbalancer_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/kubelab"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/preflight/loadbalancer"
)

// The fault tests run locally only: each breaks what one sub-item guards.
// The Kubernetes faults are made in a scratch namespace holding the
// Granter objects (the platform's own stays as it is); the certificate
// faults swap the certificate the local load balancer serves.

// scratch makes a namespace with the Granter objects at v1.9.0, one
// replica each, rolled out and with ready endpoints.
func scratch(t *testing.T) string {
	t.Helper()
	ns := env.Cluster.NewNamespaceT(t)
	cs := env.Cluster.Clientset
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, kubelab.ApplyGranter(ctx, cs, ns, granter.V1, kubelab.WithReplicas(1)))
	for _, d := range kubelab.Deployments {
		require.NoError(t, kube.WaitRollout(ctx, cs, ns, d))
		require.NoError(t, kube.WaitServiceEndpoints(ctx, cs, ns, d))
	}
	return ns
}

// run runs item 8 on a copy of the target looking at namespace ns ("":
// the platform's own).
func run(t *testing.T, ns string) flow.Result {
	t.Helper()
	tg := *tgt
	k := *tgt.Kube
	tg.Kube = &k
	if ns != "" {
		k.Namespace = ns
	}
	return flow.Run(t.Context(), loadbalancer.New(&tg))
}

func patch(t *testing.T, ns, kind, name string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	cs := env.Cluster.Clientset
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	switch kind {
	case "ingress":
		_, err = cs.NetworkingV1().Ingresses(ns).Patch(ctx, name, types.MergePatchType, b, metav1.PatchOptions{})
	case "deployment":
		_, err = cs.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, b, metav1.PatchOptions{})
	}
	require.NoError(t, err)
}

// ingressRules is a merge patch replacing the Ingress's rules.
func ingressRules(rules ...map[string]any) map[string]any {
	return map[string]any{"spec": map[string]any{"rules": rules}}
}

func rule(host string, paths ...map[string]any) map[string]any {
	return map[string]any{"host": host, "http": map[string]any{"paths": paths}}
}

func path(p, svc string, port int) map[string]any {
	return map[string]any{"path": p, "pathType": "Prefix", "backend": map[string]any{"service": map[string]any{"name": svc, "port": map[string]any{"number": port}}}}
}

func TestLoadBalancerCheckFaults(t *testing.T) {
	localenv.RequireStarted(t, env)
	t.Run("ingress path to a port the service does not expose", func(t *testing.T) {
		ns := scratch(t)
		patch(t, ns, "ingress", kubelab.IngressName, ingressRules(
			rule(kubelab.APIHost, path("/", kubelab.BackendCore, 3001), path("/data", kubelab.DataService, 9999)),
			rule(kubelab.FrontendHost, path("/", kubelab.WebFrontend, 3000))))
		res := run(t, ns)
		checklist.AssertOnlyFails(t, res, loadbalancer.ConfigValidated,
			"host api.example.com path /data routes to service data-service port 9999, which the service does not expose (its ports: http/8000)")
	})
	t.Run("ingress without a host rule", func(t *testing.T) {
		ns := scratch(t)
		patch(t, ns, "ingress", kubelab.IngressName, ingressRules(
			rule(kubelab.APIHost, path("/", kubelab.BackendCore, 3001), path("/data", kubelab.DataService, 8000))))
		res := run(t, ns)
		checklist.AssertOnlyFails(t, res, loadbalancer.RoutingRules, "host frontend.example.com: ingress "+ns+"/granter has no rule for it (rules for: api.example.com)")
	})
	t.Run("service without endpoints", func(t *testing.T) {
		ns := scratch(t)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		require.NoError(t, kube.ScaleAndWait(ctx, env.Cluster.Clientset, ns, kubelab.WebFrontend, 0))
		res := run(t, ns)
		checklist.AssertOnlyFails(t, res, loadbalancer.RoutingRules, "frontend.example.com/ -> web-frontend: service "+ns+"/web-frontend: expected at least 1 ready endpoint, seen 0 ready")
	})
	t.Run("readiness probe on the wrong path", func(t *testing.T) {
		ns := scratch(t)
		patch(t, ns, "deployment", kubelab.BackendCore, map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": kubelab.BackendCore, "readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/healthz"}}}},
		}}}})
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		require.NoError(t, kube.WaitRollout(ctx, env.Cluster.Clientset, ns, kubelab.BackendCore))
		res := run(t, ns)
		checklist.AssertOnlyFails(t, res, loadbalancer.HealthChecks,
			"deployment "+ns+"/backend-core: health check settings", `container backend-core readinessProbe: path "/healthz", expected "/health"`)
	})

	hosts := tgt.Kube.TLSHosts
	cert := func(t *testing.T, names []string, from, to time.Time) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		require.NoError(t, lab.SetCertificate(ctx, names, from, to))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, lab.Reset(ctx))
		})
	}
	now := time.Now()
	t.Run("certificate expired", func(t *testing.T) {
		cert(t, hosts, now.Add(-100*24*time.Hour), now.Add(-10*24*time.Hour))
		res := run(t, "")
		checklist.AssertOnlyFails(t, res, loadbalancer.TLSValid, "api.example.com (served at 127.0.0.1:", "the certificate expired on", "(10 days ago", "frontend.example.com")
	})
	t.Run("certificate for another host", func(t *testing.T) {
		cert(t, []string{"www.example.org"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
		res := run(t, "")
		checklist.AssertOnlyFails(t, res, loadbalancer.TLSValid, "the certificate is issued for [www.example.org]", "not api.example.com")
	})
	t.Run("certificate expiring within 14 days", func(t *testing.T) {
		cert(t, hosts, now.Add(-80*24*time.Hour), now.Add(10*24*time.Hour))
		res := run(t, "")
		checklist.AssertOnlyFails(t, res, loadbalancer.TLSValid, "in 9 days: fewer than thresholds.tlsMinDays 14", "renew it before deploying")
	})
	t.Run("certificate from an untrusted CA", func(t *testing.T) {
		tg := *tgt
		k := *tgt.Kube
		k.TLSRootCA = ""
		tg.Kube = &k
		res := flow.Run(t.Context(), loadbalancer.New(&tg))
		checklist.AssertOnlyFails(t, res, loadbalancer.TLSValid, "the certificate chain does not verify", "granter-preflightlab-test-ca")
	})
}
