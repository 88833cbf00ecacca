package monitor

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/granter/runbook/internal/stats"
)

// Status is what a check found.
type Status string

// Check statuses. Only Pass passes: NoData ("not enough requests to
// judge") fails the round like a breach, never counts as healthy; Skipped
// says the target lacks what the check needs (no database access) and is
// listed, never counted as passed.
const (
	Pass   Status = "ok"
	Breach Status = "BREACH"
	NoData Status = "NO DATA"
	// Inconclusive: measured, but too few requests to tell either way
	// (a 95% bound on each side of the threshold); it fails the round.
	Inconclusive Status = "INCONCLUSIVE"
	Skipped      Status = "skipped"
)

// Metric names, as the runbook's "Key Metrics to Watch" says them.
const (
	MetricErrorRate   = "error rate"
	MetricP95         = "API response time p95"
	MetricDBQuery     = "database query time"
	MetricMemory      = "memory usage"
	MetricCPU         = "CPU usage"
	MetricConnections = "active connections"
	MetricAlerts      = "critical alerts"
	MetricLogins      = "user logins"
	MetricSearch      = "search"
)

// Check is one metric measured in one round: the value, the threshold, and
// the query that produced it, so a breach can be pasted into a dashboard.
type Check struct {
	Metric string // MetricErrorRate, ...
	// Key is the journal Data key of the value (error_rate, p95, cpu,
	// connections, db.query, memory.growth, alerts.critical, smoke.auth);
	// Key+".threshold" and Key+".query" hold the rest.
	Key    string
	Status Status
	// Value is the measured number in its unit (a ratio, seconds, a
	// count); NaN when nothing was measured. Shown is how it prints.
	Value float64
	Shown string
	// Threshold is the limit in Value's unit and ThresholdShown how it
	// prints ("< 0.1%"). Op is the comparison that passes: "<".
	Threshold      float64
	ThresholdShown string
	Query          string        // PromQL, SQL, or the flow that ran
	Source         string        // prometheus, pg_stat_statements, pg_stat_activity, smoke
	Window         time.Duration // how far back the value looks
	Detail         string        // supporting evidence: request counts, the slowest statement
	// Rate is the error-rate claim decided from counts (error rate only):
	// the errors, requests, 95% bounds and verdict behind Status.
	Rate *stats.Result
	Err  error // why it did not pass (Breach, NoData, Skipped)
}

// Passed reports whether the check passed.
func (c Check) Passed() bool { return c.Status == Pass }

// Failed reports whether the check fails its round (a breach or no data).
func (c Check) Failed() bool {
	return c.Status == Breach || c.Status == NoData || c.Status == Inconclusive
}

// String reads, for a breach, "BREACH error rate: 4.98%, threshold < 0.1%
// (query: ..., window 10s; 312 requests)".
func (c Check) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-7s %s: ", c.Status, c.Metric)
	switch {
	case c.Status == Skipped || c.Status == NoData || c.Status == Inconclusive:
		fmt.Fprintf(&b, "%v", c.Err)
	default:
		fmt.Fprintf(&b, "%s, threshold %s", c.Shown, c.ThresholdShown)
	}
	var ev []string
	if c.Query != "" && c.Status != Skipped {
		ev = append(ev, "query: "+c.Query)
	}
	if c.Window > 0 {
		ev = append(ev, "window "+short(c.Window))
	}
	if c.Source != "" {
		ev = append(ev, "source "+c.Source)
	}
	if len(ev) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(ev, ", "))
	}
	if c.Detail != "" {
		fmt.Fprintf(&b, "; %s", c.Detail)
	}
	return b.String()
}

// BreachError is a failed round: every failing check, each naming its
// metric, value, threshold and query.
type BreachError struct {
	Round  int
	Checks []Check
}

func (e *BreachError) Error() string {
	parts := make([]string, len(e.Checks))
	for i, c := range e.Checks {
		parts[i] = strings.TrimSpace(c.String())
	}
	return fmt.Sprintf("round %d: %s", e.Round, strings.Join(parts, "; "))
}

// below judges value < threshold; NaN never passes.
func below(value, threshold float64) Status {
	if math.IsNaN(value) || value >= threshold {
		return Breach
	}
	return Pass
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f%%", v*100)
}

func ms(seconds float64) string {
	if math.IsNaN(seconds) {
		return "n/a"
	}
	d := time.Duration(seconds * float64(time.Second))
	if d < 10*time.Millisecond {
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}
