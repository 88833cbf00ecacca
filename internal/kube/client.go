package kube

import (
	"fmt"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/granter/runbook/internal/target"
)

// NewClientset builds a client from a kubeconfig, as kubectl would: the
// file at kubeconfig, else $KUBECONFIG, else ~/.kube/config; kubeContext
// "" is the kubeconfig's current context. It never prompts for
// credentials: a kubeconfig that would ask fails instead.
func NewClientset(kubeconfig, kubeContext string) (kubernetes.Interface, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %q (context %q): %w", kubeconfig, kubeContext, err)
	}
	return kubernetes.NewForConfig(cfg)
}

// ForTarget returns a clientset for the target's cluster: kube.kubeconfig
// and kube.context (see NewClientset). Building it reads the kubeconfig
// file only: nothing is sent to the cluster until the first call.
func ForTarget(tgt *target.Target) (kubernetes.Interface, error) {
	if tgt.Kube == nil {
		return nil, fmt.Errorf("the target has no Kubernetes access (no kube: section in %s)", tgt.File)
	}
	return NewClientset(tgt.Kube.Kubeconfig, tgt.Kube.Context)
}

// Describe is how a command line names the target's cluster: the kubectl
// flags for the kubeconfig, the context and the namespace.
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

// Lazy is a clientset built on first use and kept, so that a checklist
// item whose sub-items all read the cluster connects once. The zero value
// is ready to use; it is safe for concurrent use.
type Lazy struct {
	once sync.Once
	cs   kubernetes.Interface
	err  error
}

// Get returns the clientset for kubeconfig and kubeContext (NewClientset),
// built by the first call; later calls return the same client or error
// whatever they pass.
func (l *Lazy) Get(kubeconfig, kubeContext string) (kubernetes.Interface, error) {
	l.once.Do(func() { l.cs, l.err = NewClientset(kubeconfig, kubeContext) })
	return l.cs, l.err
}

// Of returns the clientset of tgt's cluster (Get with kube.kubeconfig and
// kube.context) and its namespace. A target without a kube: section is an
// error naming its file, followed by why (what cannot be checked then,
// starting with ": "; may be empty).
func (l *Lazy) Of(tgt *target.Target, why string) (kubernetes.Interface, string, error) {
	k := tgt.Kube
	if k == nil {
		return nil, "", fmt.Errorf("no Kubernetes access configured (no kube: section in %s)%s", tgt.File, why)
	}
	cs, err := l.Get(k.Kubeconfig, k.Context)
	return cs, k.Namespace, err
}
