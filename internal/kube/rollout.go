package kube

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// RevisionAnnotation is the annotation the Deployment controller puts on a
// Deployment and its ReplicaSets.
const RevisionAnnotation = "deployment.kubernetes.io/revision"

// RolloutProgress is one step of a rollout, for on-call progress output.
type RolloutProgress struct {
	Namespace, Name string
	Message         string // "1 of 2 updated replicas available"
	Elapsed         time.Duration
	Status          appsv1.DeploymentStatus
}

// String reads like "backend-core: 1 of 2 updated replicas available, 12s".
func (p RolloutProgress) String() string {
	return fmt.Sprintf("%s: %s, %s", p.Name, p.Message, p.Elapsed.Round(time.Second))
}

// RolloutOption sets an optional WaitRollout setting.
type RolloutOption func(*rolloutConfig)

type rolloutConfig struct {
	progress func(RolloutProgress)
}

// WithProgress calls fn whenever the rollout's state message changes
// (default: no callback). fn runs on the waiting goroutine; keep it short.
func WithProgress(fn func(RolloutProgress)) RolloutOption {
	return func(c *rolloutConfig) { c.progress = fn }
}

// rolloutState is kubectl rollout status's verdict on one Deployment object.
type rolloutState struct {
	done    bool
	failed  *appsv1.DeploymentCondition // Progressing with ProgressDeadlineExceeded
	message string
}

// evaluate applies the rules of `kubectl rollout status` (DeploymentStatusViewer).
func evaluate(d *appsv1.Deployment) rolloutState {
	if d.Generation > d.Status.ObservedGeneration {
		return rolloutState{message: fmt.Sprintf("waiting for the spec update to be observed (generation %d, observed %d)",
			d.Generation, d.Status.ObservedGeneration)}
	}
	for i, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return rolloutState{failed: &d.Status.Conditions[i], message: "progress deadline exceeded"}
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	switch {
	case st.UpdatedReplicas < want:
		return rolloutState{message: fmt.Sprintf("%d of %d replicas updated", st.UpdatedReplicas, want)}
	case st.Replicas > st.UpdatedReplicas:
		return rolloutState{message: fmt.Sprintf("%d old replicas pending termination", st.Replicas-st.UpdatedReplicas)}
	case st.AvailableReplicas < st.UpdatedReplicas:
		return rolloutState{message: fmt.Sprintf("%d of %d updated replicas available", st.AvailableReplicas, st.UpdatedReplicas)}
	}
	return rolloutState{done: true, message: fmt.Sprintf("rolled out (%d of %d updated replicas available)", st.AvailableReplicas, st.UpdatedReplicas)}
}

func statusSummary(d *appsv1.Deployment) string {
	st := d.Status
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	return fmt.Sprintf("%s (generation %d, observed %d, spec.replicas %d, replicas %d, updated %d, ready %d, available %d, unavailable %d)",
		evaluate(d).message, d.Generation, st.ObservedGeneration, want, st.Replicas, st.UpdatedReplicas,
		st.ReadyReplicas, st.AvailableReplicas, st.UnavailableReplicas)
}

func awaited(d *appsv1.Deployment) string {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	return fmt.Sprintf("generation %d observed, %d of %d replicas updated and available, no old replicas left", d.Generation, want, want)
}

// WaitRollout waits, like `kubectl rollout status deployment/<name>`, until
// the Deployment's latest generation is observed, every replica is updated,
// the old ones are gone and the updated ones are available. A Progressing
// condition with reason ProgressDeadlineExceeded fails at once with the
// condition's message. It follows that one Deployment (field selector
// metadata.name) with client-go's watchtools.UntilWithSync, which watches
// again when the server closes the watch and lists again when it expires. When ctx ends first it
// returns a *RolloutError with Reason "Timeout", what was awaited and the
// last status seen; failures carry the newest ReplicaSet's pod problems.
func WaitRollout(ctx context.Context, cs kubernetes.Interface, ns, name string, opts ...RolloutOption) error {
	var cfg rolloutConfig
	for _, o := range opts {
		o(&cfg)
	}
	start := time.Now()
	dc := cs.AppsV1().Deployments(ns)
	d, err := dc.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("rollout status deployment %s/%s: %w", ns, name, err)
	}
	lastMsg := ""
	// check returns (finished, error) for one observed object.
	check := func(d *appsv1.Deployment) (bool, error) {
		s := evaluate(d)
		if cfg.progress != nil && s.message != lastMsg {
			cfg.progress(RolloutProgress{Namespace: ns, Name: name, Message: s.message, Elapsed: time.Since(start), Status: d.Status})
		}
		lastMsg = s.message
		if s.failed != nil {
			if old := staleDeadline(ctx, cs, d, s.failed); old != "" {
				// The controller observed the new generation but still
				// carries the condition of the ReplicaSet before it; it
				// replaces it as soon as the new one progresses.
				lastMsg = "ProgressDeadlineExceeded of the previous ReplicaSet " + old + " still shown; waiting for the new one"
				return false, nil
			}
			return true, rolloutFailure(ctx, cs, d, s.failed.Reason, s.failed.Message, start, nil)
		}
		return s.done, nil
	}
	if done, err := check(d); done {
		return err
	}
	// Follow the one Deployment: client-go lists, watches, re-watches a
	// closed watch and lists again on an expired one.
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := selected(cs, dc.List, dc.Watch, sel, "")
	var result error
	observe := func(obj any) (bool, error) {
		got, ok := obj.(*appsv1.Deployment)
		if !ok {
			return false, fmt.Errorf("rollout status deployment %s/%s: unexpected object %T", ns, name, obj)
		}
		d = got
		done, err := check(got)
		result = err
		return done, nil
	}
	_, err = watchtools.UntilWithSync(ctx, lw, &appsv1.Deployment{},
		func(store cache.Store) (bool, error) {
			obj, exists, err := store.GetByKey(ns + "/" + name)
			if err != nil || !exists {
				return false, err // deleted since the Get: the watch says so
			}
			return observe(obj)
		},
		func(ev watch.Event) (bool, error) {
			switch ev.Type {
			case watch.Added, watch.Modified:
				return observe(ev.Object)
			case watch.Deleted:
				result = &RolloutError{Namespace: ns, Name: name, Reason: "Deleted",
					Message: "the deployment was deleted while waiting", Awaited: awaited(d), Seen: statusSummary(d)}
				return true, nil
			}
			return false, nil
		})
	switch {
	case err == nil:
		return result
	case ctx.Err() != nil:
		return rolloutFailure(ctx, cs, d, "Timeout", ctx.Err().Error(), start, ctx.Err())
	}
	return fmt.Errorf("rollout status deployment %s/%s: %w", ns, name, err)
}

// rolloutFailure builds the RolloutError, looking up the newest
// ReplicaSet's pods with a short context of its own (ctx may be over).
func rolloutFailure(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment, reason, message string, start time.Time, cause error) error {
	e := &RolloutError{
		Namespace: d.Namespace, Name: d.Name, Reason: reason, Message: message,
		Awaited: awaited(d), Seen: statusSummary(d), Elapsed: time.Since(start), Err: cause,
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	pods, err := NewestReplicaSetPodProblems(lctx, cs, d)
	if err != nil {
		e.Pods = []PodProblem{{Pod: "?", Phase: "unknown", Message: "could not list the newest ReplicaSet's pods: " + err.Error()}}
	} else {
		e.Pods = pods
	}
	return e
}

// NewestReplicaSetPodProblems returns, for the deployment's newest
// ReplicaSet, one PodProblem per container that is not ready (at most 10).
func NewestReplicaSetPodProblems(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment) ([]PodProblem, error) {
	rss, err := ownedReplicaSets(ctx, cs, d)
	if err != nil {
		return nil, err
	}
	if len(rss) == 0 {
		return nil, nil
	}
	newest := rss[len(rss)-1]
	sel, err := metav1.LabelSelectorAsSelector(newest.rs.Spec.Selector)
	if err != nil {
		return nil, err
	}
	pods, err := cs.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	var out []PodProblem
	for i := range pods.Items {
		out = append(out, podProblems(&pods.Items[i])...)
		if len(out) >= 10 {
			out = out[:10]
			break
		}
	}
	return out, nil
}

func podProblems(p *corev1.Pod) []PodProblem {
	var out []PodProblem
	base := PodProblem{Pod: p.Name, Phase: string(p.Status.Phase)}
	if p.DeletionTimestamp != nil {
		base.Phase += ", terminating"
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Ready {
			continue
		}
		pp := base
		pp.Container, pp.Restarts = cs.Name, cs.RestartCount
		switch {
		case cs.State.Waiting != nil:
			pp.State, pp.Reason, pp.Message = "waiting", cs.State.Waiting.Reason, cs.State.Waiting.Message
		case cs.State.Terminated != nil:
			pp.State, pp.Reason, pp.Message = "terminated", cs.State.Terminated.Reason, cs.State.Terminated.Message
		case cs.State.Running != nil:
			pp.State = "running, not ready"
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue {
					pp.Reason, pp.Message = c.Reason, c.Message
				}
			}
		}
		out = append(out, pp)
	}
	if len(p.Status.ContainerStatuses) == 0 {
		pp := base
		pp.State = "no container status yet"
		for _, c := range p.Status.Conditions {
			if c.Status != corev1.ConditionTrue {
				pp.Reason, pp.Message = c.Reason, fmt.Sprintf("%s=%s %s", c.Type, c.Status, c.Message)
				break
			}
		}
		out = append(out, pp)
	}
	return out
}

type revisionedRS struct {
	rs       *appsv1.ReplicaSet
	revision int64
}

// ownedReplicaSets returns the ReplicaSets controlled by d, oldest revision
// first.
func ownedReplicaSets(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment) ([]revisionedRS, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s: selector: %w", d.Namespace, d.Name, err)
	}
	list, err := cs.AppsV1().ReplicaSets(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s: list ReplicaSets: %w", d.Namespace, d.Name, err)
	}
	var out []revisionedRS
	for i := range list.Items {
		rs := &list.Items[i]
		if c := metav1.GetControllerOf(rs); c == nil || c.UID != d.UID {
			continue
		}
		rev, err := strconv.ParseInt(rs.Annotations[RevisionAnnotation], 10, 64)
		if err != nil {
			continue // not yet annotated by the controller
		}
		out = append(out, revisionedRS{rs: rs, revision: rev})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].revision < out[j].revision })
	return out, nil
}

var deadlineReplicaSet = regexp.MustCompile(`ReplicaSet "([^"]+)"`)

// staleDeadline returns the name of the ReplicaSet a ProgressDeadlineExceeded
// condition speaks of when that is no longer the deployment's newest
// ReplicaSet: after a failed rollout, the controller can record the new
// generation as observed before it replaces the old condition, and a
// rollback or reset must not fail on its predecessor's timeout. It returns ""
// when the condition is about the newest ReplicaSet (a real failure) or
// cannot be told apart (then it counts, as kubectl counts it).
func staleDeadline(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment, c *appsv1.DeploymentCondition) string {
	m := deadlineReplicaSet.FindStringSubmatch(c.Message)
	if m == nil {
		return ""
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	revs, err := Revisions(lctx, cs, d.Namespace, d.Name)
	if err != nil || len(revs) == 0 {
		return ""
	}
	if newest := revs[len(revs)-1].ReplicaSet; newest != m[1] {
		return m[1]
	}
	return ""
}
