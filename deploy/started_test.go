package deploy_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/target"
)

// killedAt runs steps against a fake cluster holding deployment name (at
// v1.9.0, 2 replicas) and returns the journal as it was when the first
// call of verb (update, patch) on resource reached the API: what a run
// killed at that instant leaves behind. Needs no platform.
func killedAt(t *testing.T, name, verb, resource string, steps func(*target.Target) []deploy.Step) []journal.Entry {
	t.Helper()
	tg, err := target.LoadFile(filepath.Join("..", "environments", "local.yaml"), func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	ns := tg.Kube.Namespace
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: name, Image: "granter/" + name + ":v1.9.0"}}}}},
	}
	cs := fake.NewClientset(d)
	cs.PrependReactor("get", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: autoscalingv1.ScaleSpec{Replicas: 2}}, nil
	})
	dir := t.TempDir()
	var snapshot []byte
	cs.PrependReactor(verb, resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		if snapshot == nil {
			b, err := os.ReadFile(filepath.Join(dir, journal.FileName))
			require.NoError(t, err)
			snapshot = b
		}
		return false, nil, nil
	})
	j, err := journal.Open(dir, "killed", tg.Env, tg.Redact)
	require.NoError(t, err)
	var out bytes.Buffer
	deploy.Run(context.Background(), tg, "v2.0.0", steps(tg), deploy.Options{Out: &out, Journal: j, RunDir: dir, Kube: cs})
	require.NoError(t, j.Close())
	require.NotNil(t, snapshot, "the step never called %s %s:\n%s", verb, resource, out.String())
	killed := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(killed, journal.FileName), snapshot, 0o600))
	entries, err := journal.Read(killed)
	require.NoError(t, err)
	return entries
}

// Step 3.x (set image) journals "started", with the image it found, before
// it changes the Deployment: a run killed during the call leaves what the
// rollback needs to set the image back.
func TestSetImageJournalsStartedBeforeActing(t *testing.T) {
	entries := killedAt(t, target.DataService, "update", "deployments", func(tg *target.Target) []deploy.Step {
		return deploy.Phase3(tg, "v2.0.0", target.DataService)[:1]
	})
	require.NotEmpty(t, entries, "nothing journaled before the set image call")
	last := entries[len(entries)-1]
	assert.Equal(t, journal.StatusStarted, last.Status, "the journal's last line when the API is called: %+v", last)
	assert.Equal(t, journal.Phase3, last.Phase)
	assert.Equal(t, target.DataService, last.Data[journal.KeyDeployment])
	assert.Equal(t, "granter/data-service:v1.9.0", last.Data[journal.KeyImageBefore])
	assert.Equal(t, journal.ChangesImages, last.Data[journal.KeyChanges])
}

// Step 1.3 (drain) journals "started", with the replica count it found,
// before it scales to 0.
func TestDrainJournalsStartedBeforeActing(t *testing.T) {
	entries := killedAt(t, target.BackendCore, "update", "deployments", func(tg *target.Target) []deploy.Step {
		return deploy.Select(deploy.Phase1(tg, "v2.0.0"), "1.3")
	})
	require.NotEmpty(t, entries)
	last := entries[len(entries)-1]
	assert.Equal(t, journal.StatusStarted, last.Status, "the journal's last line when the API is called: %+v", last)
	assert.Equal(t, "1.3", last.Step)
	assert.Equal(t, target.BackendCore, last.Data[journal.KeyDeployment])
	assert.Equal(t, "2", last.Data[journal.KeyReplicasBefore])
	assert.Equal(t, journal.ChangesReplicas, last.Data[journal.KeyChanges])
}
