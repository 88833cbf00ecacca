package kube_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/granter/runbook/internal/kube"
)

func deployment(rv string, gen, observed int64, updated, available int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "backend-core", Namespace: "granter", ResourceVersion: rv, Generation: gen},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: 2,
			UpdatedReplicas: updated, AvailableReplicas: available},
	}
}

// WaitRollout must survive the server closing its watch: it watches again
// from the same resourceVersion (its list's), with a field selector on the
// name.
func TestWaitRollout_reestablishesAClosedWatch(t *testing.T) {
	cs := fake.NewClientset(deployment("10", 2, 2, 1, 1))
	var mu sync.Mutex
	var calls []k8stesting.WatchActionImpl
	second := watch.NewFake()
	cs.PrependWatchReactor("deployments", func(a k8stesting.Action) (bool, watch.Interface, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, a.(k8stesting.WatchActionImpl))
		if len(calls) == 1 {
			return true, closedWatch{}, nil
		}
		return true, second, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- kube.WaitRollout(ctx, cs, "granter", "backend-core") }()

	second.Modify(deployment("12", 2, 2, 2, 2))
	require.NoError(t, <-done)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, calls, 2)
	assert.NotEmpty(t, calls[0].WatchRestrictions.ResourceVersion)
	for _, c := range calls {
		assert.Equal(t, calls[0].WatchRestrictions.ResourceVersion, c.WatchRestrictions.ResourceVersion)
		assert.Equal(t, "metadata.name=backend-core", c.WatchRestrictions.Fields.String())
	}
}

// closedWatch is a watch the server has already closed.
type closedWatch struct{}

func (closedWatch) Stop() {}
func (closedWatch) ResultChan() <-chan watch.Event {
	ch := make(chan watch.Event)
	close(ch)
	return ch
}

// An expired resourceVersion (410) makes WaitRollout Get the deployment
// again and go on from the fresh object.
func TestWaitRollout_resyncsOnExpiredWatch(t *testing.T) {
	cs := fake.NewClientset(deployment("10", 2, 2, 1, 1))
	first := watch.NewFake()
	watching := make(chan struct{})
	var n int
	cs.PrependWatchReactor("deployments", func(k8stesting.Action) (bool, watch.Interface, error) {
		n++
		if n == 1 {
			close(watching)
			return true, first, nil
		}
		return true, watch.NewFake(), nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- kube.WaitRollout(ctx, cs, "granter", "backend-core") }()

	select {
	case <-watching:
	case <-ctx.Done():
		t.Fatal("WaitRollout never watched")
	}
	// Meanwhile the rollout finished; the watch then reports 410 Expired.
	_, err := cs.AppsV1().Deployments("granter").UpdateStatus(ctx, deployment("", 2, 2, 2, 2), metav1.UpdateOptions{})
	require.NoError(t, err)
	first.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"})
	require.NoError(t, <-done)
}

// A rollout that does not finish in time names what was awaited and the
// last status seen; one that finishes while watched returns nil.
func TestWaitRollout_timeoutSaysTheLastStatusSeen(t *testing.T) {
	cs := fake.NewClientset(deployment("10", 2, 2, 1, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := kube.WaitRollout(ctx, cs, "granter", "backend-core")
	var re *kube.RolloutError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "Timeout", re.Reason)
	assert.Contains(t, err.Error(), "deployment granter/backend-core: rollout not finished after")
	assert.Contains(t, err.Error(), "expected: generation 2 observed, 2 of 2 replicas updated and available")
	assert.Contains(t, err.Error(), "seen: 1 of 2 replicas updated")
}

func TestWaitRollout_deletedWhileWaiting(t *testing.T) {
	cs := fake.NewClientset(deployment("10", 2, 2, 1, 1))
	w := watch.NewFake()
	watching := make(chan struct{})
	var once sync.Once
	cs.PrependWatchReactor("deployments", func(k8stesting.Action) (bool, watch.Interface, error) {
		once.Do(func() { close(watching) })
		return true, w, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- kube.WaitRollout(ctx, cs, "granter", "backend-core") }()
	<-watching
	w.Delete(deployment("11", 2, 2, 1, 1))
	var re *kube.RolloutError
	require.ErrorAs(t, <-done, &re)
	assert.Equal(t, "Deleted", re.Reason)
}
