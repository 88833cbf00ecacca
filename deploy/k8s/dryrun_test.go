package k8s_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"

	"github.com/granter/runbook/fixtures/kubelab"
)

// The manifests are accepted by a real API server: server-side dry run
// (admission, defaulting, validation, unknown fields rejected), on the
// local control plane (fixtures/kubelab, `make kube-tools`). Nothing is
// created but the namespace. A Job the server must refuse proves the dry
// run validates.
func TestManifestsServerSideDryRun(t *testing.T) {
	cluster := kubelab.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	objs := []*unstructured.Unstructured{}
	for _, f := range files {
		objs = append(objs, documents(t, f)...)
	}
	// The manifests name their namespace (the RoleBinding's subject must);
	// this cluster is the test's own, so it is created as it is.
	ns := objs[0].GetNamespace()
	_, err := cluster.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err, "create namespace %s", ns)

	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cluster.Clientset.Discovery()))
	dryRun := func(u *unstructured.Unstructured) error {
		gvk := u.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return err
		}
		_, err = cluster.Dynamic.Resource(mapping.Resource).Namespace(u.GetNamespace()).Create(ctx, u,
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: metav1.FieldValidationStrict})
		return err
	}
	for _, u := range objs {
		require.NoError(t, dryRun(u), "server-side dry run of %s %s%s in %s", u.GetKind(), u.GetName(), u.GetGenerateName(), u.GetNamespace())
	}

	t.Run("refuses a broken Job", func(t *testing.T) {
		var orig *unstructured.Unstructured
		for _, u := range objs {
			if u.GetKind() == "Job" {
				orig = u
			}
		}
		require.NotNil(t, orig, "no Job in %v", files)
		job := orig.DeepCopy()
		require.NoError(t, unstructured.SetNestedField(job.Object, "Always", "spec", "template", "spec", "restartPolicy"))
		require.Error(t, dryRun(job), "a Job with restartPolicy Always was accepted: the dry run does not validate")
		job = orig.DeepCopy()
		require.NoError(t, unstructured.SetNestedField(job.Object, int64(1), "spec", "activeDeadlineSecond"))
		require.Error(t, dryRun(job), "a Job with an unknown field was accepted: field validation is not strict")
	})
}
