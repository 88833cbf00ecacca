package loadbalancer

import (
	"context"
	"fmt"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

// The sub-items, in the runbook's words.
const (
	ConfigValidated = "Configuration validated"
	HealthChecks    = "Health check settings correct"
	RoutingRules    = "Routing rules configured"
	TLSValid        = "TLS certificates valid"
	itemNumber      = 8
)

// KubeTimeout bounds the Kubernetes reads of one sub-item.
const KubeTimeout = 30 * time.Second

// Option sets an optional setting of New.
type Option func(*config)

type config struct {
	now func() time.Time
}

// WithClock replaces time.Now for the certificates' validity.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New returns checklist item 8 for tgt.
func New(tgt *target.Target, opts ...Option) flow.Flow {
	c := config{now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	it := &item{tgt: tgt, c: c}
	return checklist.Flow(tgt, itemNumber, map[string]checklist.Check{
		ConfigValidated: it.config,
		HealthChecks:    it.healthChecks,
		RoutingRules:    it.routing,
		TLSValid:        it.tlsValid,
	})
}

type item struct {
	tgt  *target.Target
	c    config
	kube kube.Lazy // the target's cluster, connected once
}

// noKube is what a target without a kube: section leaves unchecked.
const noKube = ": the load balancer's configuration cannot be read"

// ingress reads the target's Ingress.
func (it *item) ingress(ctx context.Context, cs kubernetes.Interface, ns string) (*networkingv1.Ingress, error) {
	name := it.tgt.Kube.Ingress
	if name == "" {
		return nil, fmt.Errorf("no Ingress named (kube.ingress in %s)", it.tgt.File)
	}
	ing, err := cs.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("ingress %s/%s does not exist (kube.ingress in %s)", ns, name, it.tgt.File)
	}
	if err != nil {
		return nil, fmt.Errorf("ingress %s/%s: %w", ns, name, err)
	}
	return ing, nil
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}
