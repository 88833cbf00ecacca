package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
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
// It lists once, then follows a watch from that list, listing again if the
// watch closes or expires. On ctx end it returns a *WaitError naming the
// pods still there.
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
	pods := map[string]*corev1.Pod{}
	timeout := func() error { return &WaitError{What: what, Seen: describePods(pods), Err: ctx.Err()} }
	for {
		list, err := pc.List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			if ctx.Err() != nil {
				return timeout()
			}
			return fmt.Errorf("wait for %s: list pods: %w", what, err)
		}
		clear(pods)
		for i := range list.Items {
			pods[list.Items[i].Name] = &list.Items[i]
		}
		if len(pods) == 0 {
			return nil
		}
		w, err := pc.Watch(ctx, metav1.ListOptions{LabelSelector: sel.String(), ResourceVersion: list.ResourceVersion})
		if err != nil {
			if ctx.Err() != nil {
				return timeout()
			}
			return fmt.Errorf("wait for %s: watch pods: %w", what, err)
		}
		empty, err := followPods(ctx, w, pods)
		w.Stop()
		switch {
		case empty:
			return nil
		case ctx.Err() != nil:
			return timeout()
		case err != nil:
			return fmt.Errorf("wait for %s: %w", what, err)
		}
	}
}

func followPods(ctx context.Context, w watch.Interface, pods map[string]*corev1.Pod) (empty bool, err error) {
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false, nil // closed: list again
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				if p, ok := ev.Object.(*corev1.Pod); ok {
					pods[p.Name] = p
				}
			case watch.Deleted:
				if p, ok := ev.Object.(*corev1.Pod); ok {
					delete(pods, p.Name)
				}
				if len(pods) == 0 {
					return true, nil
				}
			case watch.Error:
				st := apierrors.FromObject(ev.Object)
				if apierrors.IsResourceExpired(st) || apierrors.IsGone(st) {
					return false, nil // list again
				}
				return false, fmt.Errorf("watch pods: %w", st)
			}
		}
	}
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
