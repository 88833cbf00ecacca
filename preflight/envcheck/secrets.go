package envcheck

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

// kubeClient builds a client from the target's kubeconfig (kube.kubeconfig,
// else $KUBECONFIG or ~/.kube/config) for context ("" is the
// kubeconfig's current context), with kube.NewClientset. It never prompts.
func kubeClient(k *target.Kube, context string) (kubernetes.Interface, error) {
	kubeconfig := ""
	if k != nil {
		kubeconfig = k.Kubeconfig
	}
	return kube.NewClientset(kubeconfig, context)
}

func (it *item) secrets(ctx context.Context, r *flow.Recorder) error {
	k := it.tgt.Kube
	if k == nil {
		return fmt.Errorf("no Kubernetes access configured (no kube: section in %s): the secrets cannot be checked", it.tgt.File)
	}
	if len(k.Secrets) == 0 {
		return fmt.Errorf("kube.secrets in %s lists no secret: nothing says which keys the services need", it.tgt.File)
	}
	cs, err := it.c.kube(k, k.Context)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, KubeTimeout)
	defer cancel()
	names := make([]string, 0, len(k.Secrets))
	for n := range k.Secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	var ok []string
	for _, n := range names {
		keys := k.Secrets[n]
		if err := kube.CheckSecretKeys(ctx, cs, k.Namespace, n, keys); err != nil {
			errs = append(errs, err)
			continue
		}
		r.Logf("secret %s/%s: %s present, non-empty", k.Namespace, n, strings.Join(keys, ", "))
		ok = append(ok, fmt.Sprintf("%s/%s (%s)", k.Namespace, n, strings.Join(keys, ", ")))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	checklist.Evidence(r, "every required key present and non-empty: %s (names only, no value read out)", strings.Join(ok, "; "))
	return nil
}
