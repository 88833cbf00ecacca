package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/client-go/util/retry"
)

// Scale sets the deployment's replicas through the scale subresource, like
// `kubectl scale deployment/<name> --replicas=N`. It does not wait.
func Scale(ctx context.Context, cs kubernetes.Interface, ns, name string, replicas int32) error {
	dc := cs.AppsV1().Deployments(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := dc.GetScale(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		s.Spec.Replicas = replicas
		_, err = dc.UpdateScale(ctx, name, s, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("scale deployment %s/%s to %d: %w", ns, name, replicas, err)
	}
	return nil
}

// ScaleAndWait scales and then waits: for 0 replicas until no pod of the
// deployment is left (WaitNoPods), otherwise until the rollout is complete
// (WaitRollout).
func ScaleAndWait(ctx context.Context, cs kubernetes.Interface, ns, name string, replicas int32, opts ...RolloutOption) error {
	if err := Scale(ctx, cs, ns, name, replicas); err != nil {
		return err
	}
	if replicas == 0 {
		return WaitNoPods(ctx, cs, ns, name)
	}
	return WaitRollout(ctx, cs, ns, name, opts...)
}

// WaitNoPods waits until no pod matching the deployment's selector is left,
// terminating ones included (the runbook's "wait for graceful shutdown").
// It follows the pods with client-go's watchtools.UntilWithSync (a list,
// then a watch from it, listed again if the watch expires). On ctx end it
// returns a *WaitError naming the pods still there.
func WaitNoPods(ctx context.Context, cs kubernetes.Interface, ns, deployment string) error {
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, deployment, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("wait for no pods of deployment %s/%s: %w", ns, deployment, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return fmt.Errorf("wait for no pods of deployment %s/%s: selector: %w", ns, deployment, err)
	}
	what := fmt.Sprintf("no pods left for deployment %s/%s (selector %s)", ns, deployment, sel)
	pc := cs.CoreV1().Pods(ns)
	lw := selected(cs, pc.List, pc.Watch, "", sel.String())
	pods := map[string]*corev1.Pod{}
	listed := false
	_, err = watchtools.UntilWithSync(ctx, lw, &corev1.Pod{},
		func(store cache.Store) (bool, error) {
			listed = true
			for _, obj := range store.List() {
				if p, ok := obj.(*corev1.Pod); ok {
					pods[p.Name] = p
				}
			}
			return len(pods) == 0, nil
		},
		func(ev watch.Event) (bool, error) {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				return false, nil
			}
			if ev.Type == watch.Deleted {
				delete(pods, p.Name)
			} else {
				pods[p.Name] = p
			}
			return len(pods) == 0, nil
		})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && !listed:
		return &WaitError{What: what, Seen: "the pods were not listed yet", Err: ctx.Err()}
	case ctx.Err() != nil:
		return &WaitError{What: what, Seen: describePods(pods), Err: ctx.Err()}
	}
	return fmt.Errorf("wait for %s: %w", what, err)
}

func describePods(pods map[string]*corev1.Pod) string {
	if len(pods) == 0 {
		return "no pods"
	}
	names := make([]string, 0, len(pods))
	for n := range pods {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for i, n := range names {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(names)-5))
			break
		}
		p := pods[n]
		s := n + " (" + string(p.Status.Phase)
		if p.DeletionTimestamp != nil {
			s += fmt.Sprintf(", terminating for %s", time.Since(p.DeletionTimestamp.Time).Round(time.Second))
		}
		parts = append(parts, s+")")
	}
	return fmt.Sprintf("%d pods left: %s", len(pods), strings.Join(parts, ", "))
}
