package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/kubelab"
	"github.com/granter/runbook/internal/kube"
)

// Step 3.1/3.2: kubectl set image ..., kubectl rollout status --timeout=5m.
func TestSetImage_andWaitRollout(t *testing.T) {
	ns := granter(t)
	cs := cluster.Clientset
	ctx := timeout(t, 30*time.Second)
	const name = kubelab.BackendCore

	require.NoError(t, kube.SetImage(ctx, cs, ns, name, name, "granter/backend-core:v2.0.0"))
	var progress []string
	require.NoError(t, kube.WaitRollout(ctx, cs, ns, name, kube.WithProgress(func(p kube.RolloutProgress) {
		progress = append(progress, p.String())
	})))
	require.NotEmpty(t, progress)
	assert.True(t, strings.HasPrefix(progress[len(progress)-1], "backend-core: rolled out (2 of 2 updated replicas available)"), "last progress line: %q", progress[len(progress)-1])
	t.Logf("progress: %q", progress)

	images, err := kube.CurrentImages(ctx, cs, ns, name)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{name: "granter/backend-core:v2.0.0"}, images)

	revs, err := kube.Revisions(ctx, cs, ns, name)
	require.NoError(t, err)
	require.Len(t, revs, 2, "revision 2 exists beside revision 1")
	assert.Equal(t, int64(2), revs[1].Number)
	assert.Equal(t, "granter/backend-core:v2.0.0", revs[1].Images[name])

	t.Run("previous_revision_has_the_old_image", func(t *testing.T) {
		prev, err := kube.PreviousRevision(ctx, cs, ns, name)
		require.NoError(t, err)
		assert.Equal(t, int64(1), prev.Number)
		assert.Equal(t, map[string]string{name: "granter/backend-core:v1.9.0"}, prev.Images)
	})
	t.Run("same_image_again_is_a_no_op", func(t *testing.T) {
		require.NoError(t, kube.SetImage(ctx, cs, ns, name, name, "granter/backend-core:v2.0.0"))
		require.NoError(t, kube.WaitRollout(ctx, cs, ns, name))
		revs, err := kube.Revisions(ctx, cs, ns, name)
		require.NoError(t, err)
		assert.Len(t, revs, 2)
	})
}

func TestSetImage_unknownContainerNamesIt(t *testing.T) {
	ns := granter(t, kubelab.WithReplicas(1))
	err := kube.SetImage(timeout(t, 10*time.Second), cluster.Clientset, ns, kubelab.BackendCore, "backend", "granter/backend-core:v2.0.0")
	var nf *kube.ContainerNotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, `deployment `+ns+`/backend-core: no container "backend" (containers: backend-core)`, err.Error())
}

func TestPreviousRevision_noneOnFirstDeployment(t *testing.T) {
	ns := granter(t, kubelab.WithReplicas(1))
	_, err := kube.PreviousRevision(timeout(t, 10*time.Second), cluster.Clientset, ns, kubelab.WebFrontend)
	var np *kube.NoPreviousRevisionError
	require.ErrorAs(t, err, &np)
	assert.Contains(t, err.Error(), "expected a revision before the current 1, seen ReplicaSet revisions [1]")
}

// A broken release: the new pods never become ready. With
// progressDeadlineSeconds 3 the controller gives up after ~3 s and
// WaitRollout must report it at once, long before its own deadline.
func TestWaitRollout_failsAtOnceOnProgressDeadline(t *testing.T) {
	for _, tc := range []struct {
		fault   kubelab.Fault
		reasons []string // any of these in the pod problems
		state   string
	}{
		{kubelab.FaultNeverReady, []string{"ContainersNotReady"}, "running, not ready"},
		{kubelab.FaultCrashLoop, []string{"CrashLoopBackOff"}, "waiting"},
		{kubelab.FaultImagePullFail, []string{"ErrImagePull", "ImagePullBackOff"}, "waiting"},
	} {
		t.Run(strings.TrimPrefix(string(tc.fault), "runbook.granter/"), func(t *testing.T) {
			t.Parallel()
			ns := granter(t, kubelab.WithProgressDeadline(3))
			cs := cluster.Clientset
			const name = kubelab.BackendCore
			ctx := timeout(t, 30*time.Second)
			require.NoError(t, kubelab.SetFault(ctx, cs, ns, name, tc.fault))
			require.NoError(t, kube.SetImage(ctx, cs, ns, name, name, "granter/backend-core:v2.0.0"))

			start := time.Now()
			err := kube.WaitRollout(ctx, cs, ns, name)
			elapsed := time.Since(start)
			var re *kube.RolloutError
			require.ErrorAs(t, err, &re)
			t.Logf("after %s:\n%v", elapsed, err)
			assert.Equal(t, "ProgressDeadlineExceeded", re.Reason)
			assert.Less(t, elapsed, 15*time.Second, "failed at the progress deadline, not at the context deadline")
			assert.NoError(t, ctx.Err())
			assert.Contains(t, err.Error(), "deployment "+ns+"/backend-core: rollout failed")
			assert.Contains(t, err.Error(), "Progressing condition reason ProgressDeadlineExceeded")
			assert.Contains(t, err.Error(), "has timed out progressing")
			assert.Subset(t, tc.reasons, re.WaitReasons(), "pod waiting reasons")
			require.NotEmpty(t, re.Pods)
			assert.Contains(t, err.Error(), tc.state)
		})
	}
}

// After a failed rollout, the fix (a rollback, a reset) changes the template
// again. The controller may record the new generation before it replaces the
// old ProgressDeadlineExceeded condition: that old condition names the
// previous ReplicaSet and must not fail the new wait.
func TestWaitRollout_ignoresThePreviousReplicaSetsDeadline(t *testing.T) {
	ns := granter(t, kubelab.WithProgressDeadline(3))
	cs := cluster.Clientset
	const name = kubelab.BackendCore
	ctx := timeout(t, 60*time.Second)
	require.NoError(t, kube.WaitRollout(ctx, cs, ns, name))
	require.NoError(t, kubelab.SetFault(ctx, cs, ns, name, kubelab.FaultNeverReady))
	require.NoError(t, kube.SetImage(ctx, cs, ns, name, name, "granter/backend-core:v2.0.0"))
	var re *kube.RolloutError
	require.ErrorAs(t, kube.WaitRollout(ctx, cs, ns, name), &re)
	require.Equal(t, "ProgressDeadlineExceeded", re.Reason)

	// The rollback: healthy template, previous image, at once.
	require.NoError(t, kubelab.SetFault(ctx, cs, ns, name, kubelab.FaultNone))
	require.NoError(t, kube.SetImage(ctx, cs, ns, name, name, "granter/backend-core:v1.9.0"))
	require.NoError(t, kube.WaitRollout(ctx, cs, ns, name), "the previous ReplicaSet's timeout must not fail the rollback's wait")
}

// Without a short progress deadline the on-call timeout ends the wait: the
// error says what was awaited, what was seen and why the pods are stuck.
func TestWaitRollout_timeoutNamesThePodWaitingReason(t *testing.T) {
	ns := granter(t) // progressDeadlineSeconds 600
	cs := cluster.Clientset
	const name = kubelab.DataService
	setup := timeout(t, 10*time.Second)
	require.NoError(t, kubelab.SetFault(setup, cs, ns, name, kubelab.FaultCrashLoop))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := kube.WaitRollout(ctx, cs, ns, name)
	var re *kube.RolloutError
	require.ErrorAs(t, err, &re)
	t.Logf("%v", err)
	assert.Equal(t, "Timeout", re.Reason)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "deployment "+ns+"/data-service: rollout not finished after 3")
	assert.Contains(t, err.Error(), "expected: generation 2 observed, 2 of 2 replicas updated and available, no old replicas left")
	assert.Contains(t, err.Error(), "seen: 1 of 2 replicas updated")
	assert.Contains(t, err.Error(), "CrashLoopBackOff: back-off 10s restarting failed container=data-service")
	assert.Equal(t, []string{"CrashLoopBackOff"}, re.WaitReasons())
}

func TestWaitRollout_missingDeployment(t *testing.T) {
	ns := cluster.NewNamespaceT(t)
	err := kube.WaitRollout(timeout(t, 5*time.Second), cluster.Clientset, ns, "backend-core")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rollout status deployment "+ns+"/backend-core")
	assert.Contains(t, err.Error(), "not found")
}
