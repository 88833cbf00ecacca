// Package kubeconn connects to the cluster a target names: the client-go
// clientset behind every `kubectl` line of the deployment (Steps 1.3, 3.x,
// 4.2). It reads kube.kubeconfig (else $KUBECONFIG or ~/.kube/config) and
// kube.context (else the kubeconfig's current context); it never prompts.
//
// Building the client reads the kubeconfig file only: nothing is sent to
// the cluster until the first call.
package kubeconn

import (
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

// New returns a clientset for the target's cluster.
func New(tgt *target.Target) (kubernetes.Interface, error) {
	if tgt.Kube == nil {
		return nil, fmt.Errorf("the target has no Kubernetes access (no kube: section in %s)", tgt.File)
	}
	return kube.NewClientset(tgt.Kube.Kubeconfig, tgt.Kube.Context)
}

// Describe is how a command line names the cluster: the kubectl flags for
// the kubeconfig, the context and the namespace.
func Describe(tgt *target.Target) string {
	if tgt.Kube == nil {
		return "kubectl"
	}
	s := "kubectl"
	if tgt.Kube.Kubeconfig != "" {
		s += " --kubeconfig " + tgt.Kube.Kubeconfig
	}
	if tgt.Kube.Context != "" {
		s += " --context " + tgt.Kube.Context
	}
	return s + " -n " + tgt.Kube.Namespace
}
