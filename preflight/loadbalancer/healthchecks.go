package loadbalancer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/kube"
)

func (it *item) healthChecks(ctx context.Context, r *flow.Recorder) error {
	cs, ns, err := it.kube.Of(it.tgt, noKube)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, KubeTimeout)
	defer cancel()
	var problems []error
	var ok []string
	for _, s := range it.tgt.Services {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, s.Name, metav1.GetOptions{})
		if err != nil {
			problems = append(problems, fmt.Errorf("deployment %s/%s: %w", ns, s.Name, err))
			continue
		}
		rules := kube.DefaultProbeRules
		rules.Path = s.Health
		if err := kube.CheckProbesWith(d, rules); err != nil {
			problems = append(problems, err)
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			rp := c.ReadinessProbe
			r.Logf("deployment %s/%s container %s: readiness GET %s every %ds, failure threshold %d; liveness GET %s", ns, s.Name, c.Name,
				rp.HTTPGet.Path, rp.PeriodSeconds, rp.FailureThreshold, c.LivenessProbe.HTTPGet.Path)
			ok = append(ok, fmt.Sprintf("%s GET %s every %ds x%d", s.Name, rp.HTTPGet.Path, rp.PeriodSeconds, rp.FailureThreshold))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: the load balancer would send traffic to pods that are not healthy, or drop healthy ones; fix the probes in the deployment manifests", errors.Join(problems...))
	}
	checklist.Evidence(r, "readiness and liveness probes on the health path, period %d..%ds, threshold %d..%d: %s",
		kube.DefaultProbeRules.MinPeriod, kube.DefaultProbeRules.MaxPeriod, kube.DefaultProbeRules.MinFailureThr, kube.DefaultProbeRules.MaxFailureThr, strings.Join(ok, ", "))
	return nil
}
