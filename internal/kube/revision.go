package kube

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Revision is one entry of `kubectl rollout history`: a ReplicaSet of the
// deployment, its revision number and its images by container name.
type Revision struct {
	Number     int64
	ReplicaSet string
	Images     map[string]string
}

// Revisions returns the deployment's revisions, oldest first, from the
// ReplicaSets it controls (annotation deployment.kubernetes.io/revision).
func Revisions(ctx context.Context, cs kubernetes.Interface, ns, name string) ([]Revision, error) {
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("rollout history deployment %s/%s: %w", ns, name, err)
	}
	rss, err := ownedReplicaSets(ctx, cs, d)
	if err != nil {
		return nil, err
	}
	out := make([]Revision, 0, len(rss))
	for _, r := range rss {
		out = append(out, Revision{Number: r.revision, ReplicaSet: r.rs.Name, Images: templateImages(r.rs.Spec.Template.Spec.Containers)})
	}
	return out, nil
}

// PreviousRevision returns the revision a rollback (`kubectl rollout undo`)
// would restore: the highest revision below the deployment's current one,
// with its images. It returns *NoPreviousRevisionError when there is none
// (a first deployment, or history trimmed by revisionHistoryLimit).
func PreviousRevision(ctx context.Context, cs kubernetes.Interface, ns, name string) (Revision, error) {
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Revision{}, fmt.Errorf("previous revision of deployment %s/%s: %w", ns, name, err)
	}
	rss, err := ownedReplicaSets(ctx, cs, d)
	if err != nil {
		return Revision{}, err
	}
	current, err := strconv.ParseInt(d.Annotations[RevisionAnnotation], 10, 64)
	if err != nil && len(rss) > 0 {
		current = rss[len(rss)-1].revision // not annotated yet: the newest ReplicaSet
	}
	var nums []int64
	var prev *Revision
	for _, r := range rss {
		nums = append(nums, r.revision)
		if r.revision < current {
			prev = &Revision{Number: r.revision, ReplicaSet: r.rs.Name, Images: templateImages(r.rs.Spec.Template.Spec.Containers)}
		}
	}
	if prev == nil {
		return Revision{}, &NoPreviousRevisionError{Namespace: ns, Name: name, Current: current, Revisions: nums}
	}
	return *prev, nil
}

func templateImages(cs []corev1.Container) map[string]string {
	m := make(map[string]string, len(cs))
	for _, c := range cs {
		m[c.Name] = c.Image
	}
	return m
}
