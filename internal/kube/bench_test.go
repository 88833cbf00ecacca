package kube_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/granter/runbook/fixtures/kubelab"
	"github.com/granter/runbook/internal/kube"
)

// availableAt records, from its own watch, when each generation of a
// Deployment was first seen fully rolled out (observed, all replicas
// updated and available, no old ones).
type availableAt struct {
	mu      sync.Mutex
	seen    map[int64]time.Time
	err     error
	changed chan struct{} // signalled (coalesced) when seen grows
}

func (a *availableAt) follow(ctx context.Context, ns, name string) {
	w, err := cluster.Clientset.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String(),
	})
	if err != nil {
		a.set(err)
		return
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		now := time.Now()
		d, ok := ev.Object.(*appsv1.Deployment)
		if !ok {
			continue
		}
		st, want := d.Status, *d.Spec.Replicas
		if st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want &&
			st.Replicas == want && st.AvailableReplicas == want {
			a.mu.Lock()
			_, dup := a.seen[d.Generation]
			if !dup {
				a.seen[d.Generation] = now
			}
			a.mu.Unlock()
			if !dup {
				select {
				case a.changed <- struct{}{}:
				default: // a signal is already pending
				}
			}
		}
	}
	if ctx.Err() == nil {
		a.set(fmt.Errorf("observer watch on %s/%s closed early", ns, name))
	}
}

func (a *availableAt) set(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

// waitFor returns when the observer saw generation gen available.
func (a *availableAt) waitFor(ctx context.Context, gen int64) (time.Time, error) {
	for {
		a.mu.Lock()
		t, ok := a.seen[gen]
		err := a.err
		a.mu.Unlock()
		switch {
		case err != nil:
			return time.Time{}, err
		case ok:
			return t, nil
		}
		select {
		case <-a.changed:
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("observer never saw generation %d available: %w", gen, ctx.Err())
		}
	}
}

// BenchmarkRolloutDetection measures how long WaitRollout takes to return
// after the Deployment reports the rollout complete (as seen by a separate
// watch): the on-call's "Rollout complete" latency. Reports p50/p95 in ms.
func BenchmarkRolloutDetection(b *testing.B) {
	ns := granter(b)
	cs := cluster.Clientset
	const name = kubelab.BackendCore
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := &availableAt{seen: map[int64]time.Time{}, changed: make(chan struct{}, 1)}
	go obs.follow(ctx, ns, name)

	var lat []time.Duration
	first := 0
	for i := 0; b.Loop(); i++ {
		rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
		err := kube.SetImage(rctx, cs, ns, name, name, fmt.Sprintf("granter/backend-core:v2.0.%d", i))
		require.NoError(b, err)
		d, err := cs.AppsV1().Deployments(ns).Get(rctx, name, metav1.GetOptions{})
		require.NoError(b, err)
		require.NoError(b, kube.WaitRollout(rctx, cs, ns, name))
		returned := time.Now()
		seen, err := obs.waitFor(rctx, d.Generation)
		rcancel()
		require.NoError(b, err)
		if seen.After(returned) {
			first++ // WaitRollout won the race with the observer
			seen = returned
		}
		lat = append(lat, returned.Sub(seen))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		idx := int(p*float64(len(lat))+0.5) - 1
		idx = max(0, min(idx, len(lat)-1))
		return float64(lat[idx].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(100*float64(first)/float64(len(lat)), "waitrollout-first-%")
}
