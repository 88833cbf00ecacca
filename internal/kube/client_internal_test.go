package kube

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// inClusterFake stands in for rest.InClusterConfig and counts its calls.
type inClusterFake struct {
	cfg   *rest.Config
	err   error
	calls int
}

func (f *inClusterFake) get() (*rest.Config, error) { f.calls++; return f.cfg, f.err }

// writeKubeconfig writes a kubeconfig whose context ctx points at server.
func writeKubeconfig(t *testing.T, ctx, server string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: server}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: "t"}
	cfg.Contexts[ctx] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = ctx
	p := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, p))
	return p
}

// The watch as a Kubernetes Job: no kubeconfig anywhere, so the pod's
// ServiceAccount is used, whatever context environments/prod.yaml names.
func TestRestConfigInCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "absent")) // no ~/.kube/config either
	pod := &inClusterFake{cfg: &rest.Config{Host: "https://10.96.0.1:443"}}
	cfg, err := restConfig("", "granter-prod", pod.get)
	require.NoError(t, err)
	assert.Equal(t, "https://10.96.0.1:443", cfg.Host, "the in-cluster API server")
	assert.Equal(t, 1, pod.calls)
}

func TestRestConfigKubeconfigWins(t *testing.T) {
	t.Run("KUBECONFIG", func(t *testing.T) {
		t.Setenv("KUBECONFIG", writeKubeconfig(t, "granter-prod", "https://prod.example.com"))
		pod := &inClusterFake{cfg: &rest.Config{Host: "https://10.96.0.1:443"}}
		cfg, err := restConfig("", "granter-prod", pod.get)
		require.NoError(t, err)
		assert.Equal(t, "https://prod.example.com", cfg.Host, "the kubeconfig's cluster, not the pod's")
		assert.Zero(t, pod.calls, "in-cluster credentials looked up although a kubeconfig exists")
	})
	t.Run("explicit path missing", func(t *testing.T) {
		t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "absent"))
		pod := &inClusterFake{cfg: &rest.Config{Host: "https://10.96.0.1:443"}}
		_, err := restConfig("/nonexistent/kubeconfig", "", pod.get)
		require.ErrorContains(t, err, `kubeconfig "/nonexistent/kubeconfig"`, "a named kubeconfig that is missing is an error, never the pod's credentials")
		assert.Zero(t, pod.calls)
	})
}

func TestRestConfigErrors(t *testing.T) {
	absent := filepath.Join(t.TempDir(), "absent")
	t.Setenv("KUBECONFIG", absent)
	t.Run("not in a pod", func(t *testing.T) {
		_, err := restConfig("", "granter-prod", (&inClusterFake{err: rest.ErrNotInCluster}).get)
		require.ErrorContains(t, err, `kubeconfig "" (context "granter-prod")`)
	})
	t.Run("in a pod without a token", func(t *testing.T) {
		noToken := errors.New("open /var/run/secrets/kubernetes.io/serviceaccount/token: no such file or directory")
		_, err := restConfig("", "granter-prod", (&inClusterFake{err: noToken}).get)
		require.ErrorIs(t, err, noToken)
		require.ErrorContains(t, err, "no kubeconfig ("+absent+") and the in-cluster credentials are not usable")
	})
}
