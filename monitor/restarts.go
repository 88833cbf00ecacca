package monitor

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
)

// MetricRestarts is the watch's restart check: a container that restarted
// during the round's window is a finding (its panic is in the previous
// container's log, no longer in the current one).
const MetricRestarts = "container restarts"

// keyRestarts is its journal Data key (Step 4.2 writes the same).
const keyRestarts = journal.KeyRestarts

// restarts: no container of any service restarted in the window that ends
// when the round started (kube.Restarts: the pods' restart counts and last
// termination, and the line of the previous container's log that says why
// it ended). The window starts a second early: the API keeps termination
// times in whole seconds.
func (m *Monitor) restarts(ctx context.Context, roundStart time.Time, w time.Duration) Check {
	c := Check{Metric: MetricRestarts, Key: keyRestarts, Source: "kubernetes", Window: w, Value: math.NaN(),
		Threshold: 1, ThresholdShown: "none in the window"}
	if m.tgt.Kube == nil {
		return skip(c, "the target has no Kubernetes access (no kube: section)")
	}
	cs, err := m.kube()
	if err != nil {
		return noData(c, err)
	}
	since := roundStart.Add(-w - time.Second)
	var found, queries []string
	for _, svc := range m.tgt.Services {
		queries = append(queries, fmt.Sprintf("kubectl get pods -l app=%s (restartCount, lastState); kubectl logs --previous", svc.Name))
		rs, err := kube.Restarts(ctx, cs, m.tgt.Kube.Namespace, "app="+svc.Name, since)
		if err != nil {
			c.Query = strings.Join(queries, "; ")
			return noData(c, err)
		}
		for _, r := range rs {
			found = append(found, svc.Name+": "+r.String())
		}
	}
	c.Query = "kubectl get pods -l app=<service>: restartCount, lastState; kubectl logs --previous"
	c.Value, c.Shown, c.Status = float64(len(found)), fmt.Sprintf("%d restarted", len(found)), below(float64(len(found)), 1)
	if len(found) > 0 {
		c.Detail = strings.Join(found, "; ")
	}
	return c
}

func (m *Monitor) kube() (kubernetes.Interface, error) {
	m.kubeOnce.Do(func() { m.cs, m.csErr = kube.ForTarget(m.tgt) })
	return m.cs, m.csErr
}
