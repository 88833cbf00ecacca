package loadbalancer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/kube"
)

func (it *item) routing(ctx context.Context, r *flow.Recorder) error {
	cs, ns, err := it.kube.Of(it.tgt, noKube)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, KubeTimeout)
	defer cancel()
	ing, err := it.ingress(ctx, cs, ns)
	if err != nil {
		return err
	}
	var problems []string
	var routes []string
	ruleHosts := map[string]bool{}
	var hosts []string
	for _, rule := range ing.Spec.Rules {
		ruleHosts[rule.Host] = true
		hosts = append(hosts, orAny(rule.Host))
	}
	for _, h := range it.tgt.Kube.TLSHosts {
		if !ruleHosts[h] {
			problems = append(problems, fmt.Sprintf("host %s: ingress %s/%s has no rule for it (rules for: %s): its requests are not routed to any service", h, ns, ing.Name, strings.Join(hosts, ", ")))
		}
	}
	checked := map[string]error{}
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			b := p.Backend.Service
			if b == nil {
				continue // Configuration validated names it
			}
			err, seen := checked[b.Name]
			if !seen {
				err = kube.CheckServiceEndpoints(ctx, cs, ns, b.Name)
				checked[b.Name] = err
			}
			route := fmt.Sprintf("%s%s -> %s", orAny(rule.Host), p.Path, b.Name)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v: nothing would answer", route, err))
				continue
			}
			routes = append(routes, route)
			r.Logf("%s: the service has ready endpoints", route)
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	sort.Strings(routes)
	checklist.Evidence(r, "every host routed, every path to a Service with ready endpoints: %s", strings.Join(routes, ", "))
	return nil
}
