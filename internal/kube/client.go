package kube

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
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
