package infra

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/target"
)

// The sub-items, in the runbook's words.
const (
	ServicesHealthy    = "All services healthy"
	MonitoringEnabled  = "Monitoring enabled"
	LoggingOperational = "Logging operational"
	AlertsConfigured   = "Alerts configured"
	itemNumber         = 2
)

// Timeouts.
const (
	// KubeTimeout bounds the Kubernetes reads of one sub-item.
	KubeTimeout = 30 * time.Second
	// LogTail is how many of the newest lines per container "Logging
	// operational" reads: it needs one, and a busy service writes
	// megabytes in five minutes.
	LogTail = 20
)

// ExpectedAlerts are the alert rules the runbook's thresholds imply.
var ExpectedAlerts = []string{metrics.AlertErrorRateCritical, metrics.AlertErrorRateWarning, metrics.AlertLatencyP95High}

// Option sets an optional setting of New.
type Option func(*config)

type config struct {
	logWindow time.Duration
}

// WithLogWindow replaces thresholds.logWindow (fault tests: a window that
// starts after the logs were silenced).
func WithLogWindow(d time.Duration) Option { return func(c *config) { c.logWindow = d } }

// New returns checklist item 2 for tgt.
func New(tgt *target.Target, opts ...Option) flow.Flow {
	c := config{logWindow: tgt.Thresholds.LogWindow}
	for _, o := range opts {
		o(&c)
	}
	if c.logWindow <= 0 {
		c.logWindow = 5 * time.Minute
	}
	it := &item{tgt: tgt, c: c}
	return checklist.Flow(tgt, itemNumber, map[string]checklist.Check{
		ServicesHealthy:    it.servicesHealthy,
		MonitoringEnabled:  it.monitoringEnabled,
		LoggingOperational: it.loggingOperational,
		AlertsConfigured:   it.alertsConfigured,
	})
}

type item struct {
	tgt  *target.Target
	c    config
	kube kube.Lazy // the target's cluster, connected once
}

func (it *item) prometheus() (*metrics.Client, error) {
	p := it.tgt.Prometheus
	if p == nil || p.URL == "" {
		return nil, fmt.Errorf("no Prometheus configured (prometheus.url in %s): monitoring cannot be checked", it.tgt.File)
	}
	return metrics.New(p.URL, metrics.WithTimeout(it.tgt.HTTP.Timeout))
}

func (it *item) servicesHealthy(ctx context.Context, r *flow.Recorder) error {
	var problems []error
	var healthy []string
	for _, s := range it.tgt.Services {
		c, err := httpcheck.ForService(it.tgt, s.Name)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		resp, h, err := c.CheckHealth(ctx, s.Health, "")
		if resp != nil {
			r.Logf("%s: %s", s.Name, resp)
		}
		if err != nil {
			problems = append(problems, err)
			continue
		}
		healthy = append(healthy, fmt.Sprintf("%s %s", s.Name, h.Version))
	}
	available, err := it.deploymentsAvailable(ctx, r)
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	checklist.Evidence(r, "%d/%d healthy (%s); deployments available: %s",
		len(healthy), len(it.tgt.Services), strings.Join(healthy, ", "), strings.Join(available, ", "))
	return nil
}

// deploymentsAvailable checks every service's Deployment; it returns
// "backend-core 2/2" per available one.
func (it *item) deploymentsAvailable(ctx context.Context, r *flow.Recorder) ([]string, error) {
	cs, ns, err := it.kube.Of(it.tgt, "")
	if err != nil {
		return nil, fmt.Errorf("the deployments' availability cannot be checked: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, KubeTimeout)
	defer cancel()
	var ok []string
	var problems []error
	for _, s := range it.tgt.Services {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, s.Name, metav1.GetOptions{})
		if err != nil {
			problems = append(problems, fmt.Errorf("deployment %s/%s: %w", ns, s.Name, err))
			continue
		}
		r.Logf("deployment %s/%s: %s", ns, s.Name, statusLine(d))
		if p := unavailable(d); p != "" {
			msg := fmt.Sprintf("deployment %s/%s is not available: %s", ns, s.Name, p)
			if pods, err := kube.NewestReplicaSetPodProblems(ctx, cs, d); err == nil && len(pods) > 0 {
				var ps []string
				for _, pp := range pods {
					ps = append(ps, pp.String())
				}
				msg += "; pods of the newest ReplicaSet: " + strings.Join(ps, "; ")
			}
			problems = append(problems, errors.New(msg))
			continue
		}
		ok = append(ok, fmt.Sprintf("%s %d/%d", s.Name, d.Status.AvailableReplicas, replicas(d)))
	}
	return ok, errors.Join(problems...)
}

// replicas is the deployment's wanted replicas (1 when unset, as the API
// defaults it).
func replicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas != nil {
		return *d.Spec.Replicas
	}
	return 1
}

func statusLine(d *appsv1.Deployment) string {
	want := replicas(d)
	s := d.Status
	return fmt.Sprintf("replicas %d wanted, %d current, %d updated, %d ready, %d available (generation %d, observed %d)",
		want, s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas, d.Generation, s.ObservedGeneration)
}

// unavailable says why the deployment is not available with its rollout
// complete, or "".
func unavailable(d *appsv1.Deployment) string {
	want := replicas(d)
	s := d.Status
	var cond *appsv1.DeploymentCondition
	for i := range s.Conditions {
		if s.Conditions[i].Type == appsv1.DeploymentAvailable {
			cond = &s.Conditions[i]
		}
	}
	switch {
	case want == 0:
		return "scaled to 0 replicas: nothing serves"
	case s.ObservedGeneration < d.Generation:
		return fmt.Sprintf("generation %d not yet observed by the controller (observed %d)", d.Generation, s.ObservedGeneration)
	case cond != nil && cond.Status != corev1.ConditionTrue:
		return fmt.Sprintf("condition Available=%s reason %s: %s", cond.Status, cond.Reason, cond.Message)
	case s.UpdatedReplicas < want:
		return fmt.Sprintf("rollout not complete: %d of %d replicas updated (%d available)", s.UpdatedReplicas, want, s.AvailableReplicas)
	case s.Replicas > s.UpdatedReplicas:
		return fmt.Sprintf("rollout not complete: %d old replicas still running", s.Replicas-s.UpdatedReplicas)
	case s.AvailableReplicas < want:
		return fmt.Sprintf("%d of %d replicas available", s.AvailableReplicas, want)
	case cond == nil:
		return "no Available condition yet"
	}
	return ""
}

func (it *item) monitoringEnabled(ctx context.Context, r *flow.Recorder) error {
	mc, err := it.prometheus()
	if err != nil {
		return err
	}
	all, err := mc.TargetHealth(ctx)
	if err != nil {
		return fmt.Errorf("prometheus does not answer: %w", err)
	}
	e := &metrics.TargetsError{URL: mc.URL()}
	var up []string
	for _, s := range it.tgt.Services {
		found := false
		for _, t := range all {
			if t.Job != s.Name && t.Service != s.Name {
				continue
			}
			found = true
			r.Logf("%s: %s", s.Name, t)
			if t.Up() {
				up = append(up, fmt.Sprintf("%s (%s)", s.Name, t.ScrapeURL))
			} else {
				e.Down = append(e.Down, t)
			}
		}
		if !found {
			e.Missing = append(e.Missing, s.Name)
		}
	}
	for _, t := range all {
		if !slices.Contains(e.Seen, t.Job) {
			e.Seen = append(e.Seen, t.Job)
		}
		if !t.Up() && !slices.ContainsFunc(it.tgt.Services, func(s target.Service) bool { return s.Name == t.Job || s.Name == t.Service }) {
			r.Logf("not Granter's, not counted: %s", t)
		}
	}
	if len(e.Down) > 0 || len(e.Missing) > 0 {
		return e
	}
	checklist.Evidence(r, "Prometheus %s answers; %d scrape target(s) up: %s", mc.URL(), len(up), strings.Join(up, ", "))
	return nil
}

func (it *item) loggingOperational(ctx context.Context, r *flow.Recorder) error {
	cs, ns, err := it.kube.Of(it.tgt, "")
	if err != nil {
		return fmt.Errorf("the pod logs cannot be read: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, KubeTimeout)
	defer cancel()
	w := it.c.logWindow
	var problems []error
	var ok []string
	for _, s := range it.tgt.Services {
		sel := "app=" + s.Name
		lines, err := kube.PodLogs(ctx, cs, ns, sel, kube.LogOptions{Container: s.Name, Since: w, TailLines: LogTail})
		pods := map[string]bool{}
		for _, l := range lines {
			pods[l.Pod] = true
		}
		switch {
		case err != nil && len(lines) == 0:
			problems = append(problems, fmt.Errorf("%s: no log line read (kubectl logs -l %s -n %s --since=%s): %w", s.Name, sel, ns, w, err))
		case len(lines) == 0:
			problems = append(problems, fmt.Errorf("%s: its pods wrote no log line in the last %s (kubectl logs -l %s -n %s --since=%s is empty): logging is not operational; check the service's log output and the node's log collection",
				s.Name, w, sel, ns, w))
		default:
			if err != nil {
				r.Logf("%s: some containers' logs could not be read: %v", s.Name, err)
			}
			newest := lines[len(lines)-1]
			r.Logf("%s: %d line(s) from %d pod(s) in the last %s; newest (pod %s): %s", s.Name, len(lines), len(pods), w, newest.Pod, excerpt(newest.Text, 200))
			ok = append(ok, fmt.Sprintf("%s %d line(s) from %d pod(s)", s.Name, len(lines), len(pods)))
		}
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	checklist.Evidence(r, "every service logged in the last %s (through the API, newest %d lines per pod): %s", w, LogTail, strings.Join(ok, ", "))
	return nil
}

func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (it *item) alertsConfigured(ctx context.Context, r *flow.Recorder) error {
	mc, err := it.prometheus()
	if err != nil {
		return err
	}
	rules, err := mc.Rules(ctx)
	if err != nil {
		return fmt.Errorf("the alert rules cannot be read: %w", err)
	}
	var loaded []string
	byName := map[string][]metrics.AlertRule{}
	for _, rule := range rules {
		if _, ok := byName[rule.Name]; !ok {
			loaded = append(loaded, rule.Name)
		}
		byName[rule.Name] = append(byName[rule.Name], rule)
		r.Logf("rule %s (group %s, file %s): health %s, state %s, last evaluated %s: %s", rule.Name, rule.Group, rule.File,
			rule.Health, rule.State, rule.LastEvaluation.Format(time.RFC3339), rule.Expr)
	}
	var problems []string
	var ok []string
	for _, name := range ExpectedAlerts {
		rs, found := byName[name]
		if !found {
			problems = append(problems, fmt.Sprintf("alert rule %s is not loaded (loaded: %s)", name, listOrNone(loaded)))
			continue
		}
		for _, rule := range rs {
			if rule.Health == "err" {
				problems = append(problems, fmt.Sprintf("alert rule %s (group %s) fails to evaluate: %s", name, rule.Group, rule.LastError))
			}
		}
		ok = append(ok, fmt.Sprintf("%s (%s)", name, rs[0].Labels["severity"]))
	}
	if len(problems) > 0 {
		return fmt.Errorf("prometheus %s: %s: load the runbook's alert rules (the rules file of the Prometheus configuration) and reload Prometheus",
			mc.URL(), strings.Join(problems, "; "))
	}
	checklist.Evidence(r, "%d alert rules loaded in Prometheus %s, none failing to evaluate: %s", len(ok), mc.URL(), strings.Join(ok, ", "))
	return nil
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
