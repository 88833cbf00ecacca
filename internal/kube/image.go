package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// SetImage sets one container's image, like `kubectl set image
// deployment/<deploy> <container>=<image>`; the Deployment controller then
// starts a rollout (a new ReplicaSet revision) unless the image is already
// that one. It returns *ContainerNotFoundError, listing the deployment's
// containers, when container does not exist. It does not wait.
func SetImage(ctx context.Context, cs kubernetes.Interface, ns, deploy, container, image string) error {
	dc := cs.AppsV1().Deployments(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := dc.Get(ctx, deploy, metav1.GetOptions{})
		if err != nil {
			return err
		}
		spec := &d.Spec.Template.Spec
		var c *corev1.Container
		for i := range spec.Containers {
			if spec.Containers[i].Name == container {
				c = &spec.Containers[i]
			}
		}
		for i := range spec.InitContainers {
			if spec.InitContainers[i].Name == container {
				c = &spec.InitContainers[i]
			}
		}
		switch {
		case c == nil:
			return &ContainerNotFoundError{Namespace: ns, Deployment: deploy, Container: container, Available: containerNames(d)}
		case c.Image == image:
			return nil // nothing to change, as with kubectl
		}
		c.Image = image
		_, err = dc.Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		var nf *ContainerNotFoundError
		if errors.As(err, &nf) {
			return err
		}
		return fmt.Errorf("set image deployment %s/%s %s=%s: %w", ns, deploy, container, image, err)
	}
	return nil
}

// CurrentImages returns the deployment's images by container name, from its
// pod template (what `kubectl set image` changes).
func CurrentImages(ctx context.Context, cs kubernetes.Interface, ns, name string) (map[string]string, error) {
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("images of deployment %s/%s: %w", ns, name, err)
	}
	return templateImages(d.Spec.Template.Spec.Containers), nil
}

func containerNames(d *appsv1.Deployment) []string {
	var out []string
	for _, c := range d.Spec.Template.Spec.Containers {
		out = append(out, c.Name)
	}
	for _, c := range d.Spec.Template.Spec.InitContainers {
		out = append(out, c.Name+" (init)")
	}
	sort.Strings(out)
	return out
}
