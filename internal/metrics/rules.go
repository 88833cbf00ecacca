package metrics

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/granter/runbook/internal/target"
)

// The alert rules the runbook's thresholds imply.
const (
	// AlertErrorRateCritical: the rollback trigger, "> 1% error rate".
	AlertErrorRateCritical = "GranterErrorRateCritical"
	// AlertErrorRateWarning: Step 4.5, "Error Rate should be < 0.1%".
	AlertErrorRateWarning = "GranterErrorRateWarning"
	// AlertLatencyP95High: monitoring, "API response time: < 200ms (p95)".
	AlertLatencyP95High = "GranterLatencyP95High"
)

// Severities the rules carry in their severity label.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
)

// Thresholds are the runbook numbers the alert rules encode.
type Thresholds struct {
	ErrorRateWarning  float64       // Step 4.5: error rate < 0.1%
	ErrorRateCritical float64       // rollback trigger: > 1%
	LatencyP95        time.Duration // monitoring: p95 < 200ms
}

// ThresholdsOf are the numbers a target's thresholds give the alert rules:
// thresholds.errorRate warns, the rollback rule's rate is critical, the
// API's p95 bounds the latency.
func ThresholdsOf(t target.Thresholds) Thresholds {
	return Thresholds{ErrorRateWarning: t.ErrorRate, ErrorRateCritical: t.RollbackErrorRate, LatencyP95: t.APIP95}
}

// RunbookThresholds are the runbook's own numbers.
func RunbookThresholds() Thresholds {
	return Thresholds{ErrorRateWarning: 0.001, ErrorRateCritical: 0.01, LatencyP95: 200 * time.Millisecond}
}

// WithDefaults fills every zero field with the runbook's number.
func (t Thresholds) WithDefaults() Thresholds {
	d := RunbookThresholds()
	if t.ErrorRateWarning == 0 {
		t.ErrorRateWarning = d.ErrorRateWarning
	}
	if t.ErrorRateCritical == 0 {
		t.ErrorRateCritical = d.ErrorRateCritical
	}
	if t.LatencyP95 == 0 {
		t.LatencyP95 = d.LatencyP95
	}
	return t
}

// Alerts maps each alert name to the threshold its expression must compare
// against, in the expression's unit (ratios, seconds).
func (t Thresholds) Alerts() map[string]float64 {
	return map[string]float64{
		AlertErrorRateCritical: t.ErrorRateCritical,
		AlertErrorRateWarning:  t.ErrorRateWarning,
		AlertLatencyP95High:    t.LatencyP95.Seconds(),
	}
}

// RuleSpec is one alerting rule as a Prometheus rules file writes it.
type RuleSpec struct {
	Alert       string
	Expr        string
	For         time.Duration
	Labels      map[string]string
	Annotations map[string]string
}

// ServiceErrorRatioExpr is the error ratio per service over window, the
// left side of the error rate alerts.
func ServiceErrorRatioExpr(window time.Duration) string {
	w := promDuration(window)
	return fmt.Sprintf("sum by (service) (rate(%s[%s])) / sum by (service) (rate(%s[%s]))",
		series(RequestsTotal, serverErrors), w, series(RequestsTotal), w)
}

// ServiceLatencyP95Expr is the p95 latency per service over window.
func ServiceLatencyP95Expr(window time.Duration) string {
	return fmt.Sprintf("histogram_quantile(0.95, sum by (service, le) (rate(%s[%s])))",
		series(RequestDuration+"_bucket"), promDuration(window))
}

// AlertRules are the rules the thresholds imply: each compares a per-service
// expression over window against its threshold, and fires after holding for
// forDur (the runbook's dashboards use 1m; tests use 0).
func AlertRules(t Thresholds, window, forDur time.Duration) []RuleSpec {
	t = t.WithDefaults()
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return []RuleSpec{{
		Alert:  AlertErrorRateCritical,
		Expr:   ServiceErrorRatioExpr(window) + " > " + num(t.ErrorRateCritical),
		For:    forDur,
		Labels: map[string]string{"severity": SeverityCritical},
		Annotations: map[string]string{
			"summary":     fmt.Sprintf("{{ $labels.service }}: error rate {{ $value | humanizePercentage }} above %s over %s", Ratio.Format(t.ErrorRateCritical), promDuration(window)),
			"description": "Runbook rollback trigger: only if critical issues (> 1% error rate or core functionality broken).",
		},
	}, {
		Alert:  AlertErrorRateWarning,
		Expr:   ServiceErrorRatioExpr(window) + " > " + num(t.ErrorRateWarning),
		For:    forDur,
		Labels: map[string]string{"severity": SeverityWarning},
		Annotations: map[string]string{
			"summary":     fmt.Sprintf("{{ $labels.service }}: error rate {{ $value | humanizePercentage }} above %s over %s", Ratio.Format(t.ErrorRateWarning), promDuration(window)),
			"description": "Runbook Step 4.5: Error Rate should be < 0.1%.",
		},
	}, {
		Alert:  AlertLatencyP95High,
		Expr:   ServiceLatencyP95Expr(window) + " > " + num(t.LatencyP95.Seconds()),
		For:    forDur,
		Labels: map[string]string{"severity": SeverityWarning},
		Annotations: map[string]string{
			"summary":     fmt.Sprintf("{{ $labels.service }}: p95 latency {{ $value | humanizeDuration }} above %s over %s", t.LatencyP95, promDuration(window)),
			"description": "Runbook monitoring: API response time < 200ms (p95).",
		},
	}}
}

// AlertRule is one alerting rule as Prometheus loaded it.
type AlertRule struct {
	Group, File    string
	Name           string
	Expr           string // as Prometheus prints it back
	For            time.Duration
	Labels         map[string]string
	Annotations    map[string]string
	Health         string // ok, err, unknown
	LastError      string
	State          string // inactive, pending, firing
	LastEvaluation time.Time
}

// Rules lists the alerting rules Prometheus has loaded (recording rules are
// left out).
func (c *Client) Rules(ctx context.Context) ([]AlertRule, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.Rules(ctx, nil)
	if err != nil {
		return nil, &QueryError{URL: c.url, Query: "/api/v1/rules", Err: explain(err)}
	}
	var out []AlertRule
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			a, ok := r.(v1.AlertingRule)
			if !ok {
				continue
			}
			out = append(out, AlertRule{
				Group: g.Name, File: g.File, Name: a.Name, Expr: a.Query,
				For:    time.Duration(a.Duration * float64(time.Second)),
				Labels: labels(model.Metric(a.Labels)), Annotations: labels(model.Metric(a.Annotations)),
				Health: string(a.Health), LastError: a.LastError, State: a.State,
				LastEvaluation: a.LastEvaluation,
			})
		}
	}
	return out, nil
}

// RuleThreshold is an alert rule with the threshold read from its
// expression's final comparison ("... > 0.01").
type RuleThreshold struct {
	AlertRule
	Op        string  // >, >=, <, <=, ==, !=; empty when unreadable
	Threshold float64 // NaN when unreadable
	Problem   string  // why the threshold could not be read
}

// trailingComparison matches the last comparison of an expression against
// a number: "<anything> > 0.01", "<anything> >= bool 1e-3".
var trailingComparison = regexp.MustCompile(`^(.*)\s*(>=|<=|==|!=|>|<)\s*(?:bool\s+)?([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN)\s*$`)

// ExtractThreshold reads the comparison an alert expression ends with.
func ExtractThreshold(expr string) (op string, threshold float64, err error) {
	m := trailingComparison.FindStringSubmatch(strings.TrimSpace(expr))
	if m == nil {
		return "", math.NaN(), fmt.Errorf("expression does not end with a comparison against a number: %s", expr)
	}
	v, err := strconv.ParseFloat(m[3], 64)
	if err != nil {
		return "", math.NaN(), fmt.Errorf("threshold %q in %s: %w", m[3], expr, err)
	}
	return m[2], v, nil
}

// RuleThresholds reads every loaded alert rule's threshold, so preflight
// can compare what Prometheus evaluates with the runbook's numbers
// (CheckRuleThresholds).
func (c *Client) RuleThresholds(ctx context.Context) ([]RuleThreshold, error) {
	rules, err := c.Rules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RuleThreshold, 0, len(rules))
	for _, r := range rules {
		rt := RuleThreshold{AlertRule: r}
		rt.Op, rt.Threshold, err = ExtractThreshold(r.Expr)
		if err != nil {
			rt.Problem = err.Error()
		}
		out = append(out, rt)
	}
	return out, nil
}

// RuleThresholdsError lists every way the loaded rules disagree with the
// runbook: a rule missing, a threshold that differs, a threshold that
// cannot be read, a rule that fails to evaluate.
type RuleThresholdsError struct {
	Problems []string
}

func (e *RuleThresholdsError) Error() string {
	return fmt.Sprintf("alert rules do not match the runbook (%d problems): %s", len(e.Problems), strings.Join(e.Problems, "; "))
}

// CheckRuleThresholds checks checklist item 7's "Alert thresholds set":
// every alert in want is loaded, compares with > or >= against exactly the
// wanted number, and evaluates without error.
func CheckRuleThresholds(loaded []RuleThreshold, want map[string]float64) error {
	byName := map[string][]RuleThreshold{}
	var names []string
	for _, r := range loaded {
		if _, ok := byName[r.Name]; !ok {
			names = append(names, r.Name)
		}
		byName[r.Name] = append(byName[r.Name], r)
	}
	wanted := make([]string, 0, len(want))
	for n := range want {
		wanted = append(wanted, n)
	}
	sort.Strings(wanted)
	var problems []string
	for _, name := range wanted {
		w := want[name]
		rs, ok := byName[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("alert rule %s not loaded (loaded: %s)", name, strings.Join(names, ", ")))
			continue
		}
		for _, r := range rs {
			where := fmt.Sprintf("alert rule %s (group %s, file %s)", r.Name, r.Group, r.File)
			switch {
			case r.Problem != "":
				problems = append(problems, fmt.Sprintf("%s: threshold unreadable: %s", where, r.Problem))
			case r.Op != ">" && r.Op != ">=":
				problems = append(problems, fmt.Sprintf("%s: compares with %q, runbook says alert above %g (expr: %s)", where, r.Op, w, r.Expr))
			case !sameNumber(r.Threshold, w):
				problems = append(problems, fmt.Sprintf("%s: threshold %g loaded, runbook says %g (expr: %s)", where, r.Threshold, w, r.Expr))
			}
			if r.Health == "err" {
				problems = append(problems, fmt.Sprintf("%s: fails to evaluate: %s", where, r.LastError))
			}
		}
	}
	if len(problems) > 0 {
		return &RuleThresholdsError{Problems: problems}
	}
	return nil
}

func sameNumber(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// Alert is one active alert.
type Alert struct {
	Name, Severity string
	State          string // pending or firing
	Labels         map[string]string
	Annotations    map[string]string
	ActiveAt       time.Time
	Value          string
}

func (a Alert) String() string {
	s := fmt.Sprintf("%s%s %s since %s", a.Name, labelString(without(a.Labels, "alertname")), a.State, a.ActiveAt.Format(time.RFC3339))
	if sum := a.Annotations["summary"]; sum != "" {
		s += ": " + sum
	}
	return s
}

// FiringAlerts lists the alerts firing now with the given severity label
// (empty: every severity). Pending alerts are left out.
func (c *Client) FiringAlerts(ctx context.Context, severity string) ([]Alert, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.Alerts(ctx)
	if err != nil {
		return nil, &QueryError{URL: c.url, Query: "/api/v1/alerts", Err: explain(err)}
	}
	var out []Alert
	for _, a := range res.Alerts {
		l := labels(model.Metric(a.Labels))
		if a.State != v1.AlertStateFiring || (severity != "" && l["severity"] != severity) {
			continue
		}
		out = append(out, Alert{
			Name: l["alertname"], Severity: l["severity"], State: string(a.State),
			Labels: l, Annotations: labels(model.Metric(a.Annotations)), ActiveAt: a.ActiveAt, Value: a.Value,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// AlertsFiringError is the success criterion "No critical alerts
// triggered" failing: it lists each firing alert with its summary.
type AlertsFiringError struct {
	Alerts []Alert
}

func (e *AlertsFiringError) Error() string {
	parts := make([]string, len(e.Alerts))
	for i, a := range e.Alerts {
		parts[i] = a.String()
	}
	return fmt.Sprintf("%d alerts firing: %s", len(e.Alerts), strings.Join(parts, "; "))
}

// CheckNoneFiring fails with an *AlertsFiringError when any alert is given.
func CheckNoneFiring(alerts []Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	return &AlertsFiringError{Alerts: alerts}
}

func without(m map[string]string, drop string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != drop {
			out[k] = v
		}
	}
	return out
}
