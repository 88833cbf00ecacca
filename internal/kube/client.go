package kube

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/granter/runbook/internal/target"
)

// NewClientset builds a client from a kubeconfig, as kubectl would: the
// file at kubeconfig, else $KUBECONFIG, else ~/.kube/config; kubeContext
// "" is the kubeconfig's current context. It never prompts for
// credentials: a kubeconfig that would ask fails instead.
//
// Inside a pod (the 4-hour watch as a Kubernetes Job,
// deploy/k8s/monitor-job.yaml) there is no kubeconfig at all: then the
// pod's ServiceAccount is used (rest.InClusterConfig), and kubeContext,
// which names a kubeconfig entry, is not looked for.
func NewClientset(kubeconfig, kubeContext string) (kubernetes.Interface, error) {
	cfg, err := restConfig(kubeconfig, kubeContext, rest.InClusterConfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// restConfig resolves the client configuration for NewClientset;
// inCluster is rest.InClusterConfig outside tests.
func restConfig(kubeconfig, kubeContext string, inCluster func() (*rest.Config, error)) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	} else if !anyFile(rules.Precedence) {
		cfg, err := inCluster()
		switch {
		case err == nil:
			return cfg, nil
		case !errors.Is(err, rest.ErrNotInCluster):
			// In a pod whose ServiceAccount token is not mounted
			// (automountServiceAccountToken: false, or no ServiceAccount).
			return nil, fmt.Errorf("no kubeconfig (%s) and the in-cluster credentials are not usable: %w", strings.Join(rules.Precedence, ", "), err)
		}
		// Not in a pod: the kubeconfig loader below reports the missing file.
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %q (context %q): %w", kubeconfig, kubeContext, err)
	}
	return cfg, nil
}

// anyFile reports whether one of paths exists.
func anyFile(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
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
