//go:build !staging && !prod

package envcheck_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/envcheck"
)

// deployment is a Granter deployment in the staging namespace as the API
// returns it: image, and a status rolled out or not.
func deployment(name, image string, rolledOut bool) *appsv1.Deployment {
	replicas := int32(2)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "granter", Generation: 3},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: name, Image: image}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, ReadyReplicas: 2},
	}
	if !rolledOut {
		d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 1, 1
	}
	return d
}

// staging reads the cluster through a fake client standing for the
// staging context.
func staging(objs ...runtime.Object) envcheck.Option {
	cs := fake.NewClientset(objs...)
	return envcheck.WithKubeClient(func(k *target.Kube, context string) (kubernetes.Interface, error) { return cs, nil })
}

func viaKubeContext(tg *target.Target) {
	tg.Staging.KubeContext, tg.Staging.Namespace, tg.Staging.DeployRecord = "granter-staging", "granter", ""
}

func TestStagingReadFromTheCluster(t *testing.T) {
	v := tgt.Version
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "granter-secrets", Namespace: "granter"},
		Data: map[string][]byte{"DATABASE_URL": []byte("x"), "JWT_SECRET": []byte("y"), "AI_PROVIDER_KEY": []byte("z")}}
	healthy := []runtime.Object{secret,
		deployment("backend-core", "granter/backend-core:"+v, true),
		deployment("data-service", "granter/data-service:"+v, true),
		deployment("web-frontend", "granter/web-frontend:"+v, true)}

	t.Run("healthy", func(t *testing.T) {
		checklist.AssertAllPass(t, run(t, viaKubeContext, staging(healthy...)))
	})
	t.Run("rollout not complete", func(t *testing.T) {
		objs := append([]runtime.Object{}, healthy[:3]...)
		objs = append(objs, deployment("web-frontend", "granter/web-frontend:"+v, false))
		checklist.AssertOnlyFails(t, run(t, viaKubeContext, staging(objs...)), envcheck.StagingDeployment,
			"deployment granter/web-frontend has not rolled out: 1 of 2 replicas updated", "kube context granter-staging")
	})
	t.Run("another version", func(t *testing.T) {
		objs := append([]runtime.Object{}, healthy[:2]...)
		objs = append(objs, deployment("data-service", "granter/data-service:v1.9.0", true), healthy[3])
		checklist.AssertOnlyFails(t, run(t, viaKubeContext, staging(objs...)), envcheck.StagingDeployment,
			"staging data-service runs granter/data-service:v1.9.0, not granter/data-service:"+v)
	})
	t.Run("empty secret key", func(t *testing.T) {
		bad := secret.DeepCopy()
		bad.Data["JWT_SECRET"] = nil
		objs := append([]runtime.Object{bad}, healthy[1:]...)
		checklist.AssertOnlyFails(t, run(t, viaKubeContext, staging(objs...)), envcheck.SecretsReady,
			"secret granter/granter-secrets: empty keys JWT_SECRET")
	})
	t.Run("secret missing", func(t *testing.T) {
		checklist.AssertOnlyFails(t, run(t, viaKubeContext, staging(healthy[1:]...)), envcheck.SecretsReady,
			"secret granter/granter-secrets: not found")
	})
}
