package postdeploy

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/retry"
	"github.com/granter/runbook/internal/target"
)

// Windows and deadlines of Phase 4.
const (
	// LogWindow is "the last minutes" of Step 4.2 when the end of Phase 3
	// is not known (no journal).
	LogWindow = 5 * time.Minute
	// ErrorRateWindow is the longest window of Step 4.5, and the window
	// when the end of Phase 3 is not known: the dashboard's 5 minutes.
	ErrorRateWindow = 5 * time.Minute
	// MinErrorRateWindow is the shortest window when Prometheus's scrape
	// interval cannot be read (metrics.MinRateWindow: four scrapes).
	MinErrorRateWindow = time.Minute
	// TrafficWait bounds how long Prometheus may take to count the traffic
	// a check sent (a few scrape intervals).
	TrafficWait = 60 * time.Second
	// TrafficRounds is how many times Step 4.5 sends the requests still
	// needed (on a target that is not readOnly), TrafficWait shared out.
	TrafficRounds = 3
	// MaxTraffic bounds the read-only requests Step 4.5 sends on a target
	// that is not readOnly to decide its error rate (about 3/threshold are
	// needed: 3,000 for 0.1%).
	MaxTraffic = 20000
	// CheckTimeout bounds one check.
	CheckTimeout = 3 * time.Minute
)

// Evidence is what a check did and saw: the journal's Data keys (the ones
// internal/report reads), detail lines and a one-line summary.
type Evidence struct {
	Data    map[string]string
	Lines   []string
	Summary string
	mu      sync.Mutex
	sink    func(string)
}

// Set records one Data key.
func (e *Evidence) Set(key, value string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Data == nil {
		e.Data = map[string]string{}
	}
	e.Data[key] = value
}

// Logf records one detail line (and shows it at once when the caller asked).
func (e *Evidence) Logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	e.mu.Lock()
	e.Lines = append(e.Lines, line)
	sink := e.sink
	e.mu.Unlock()
	if sink != nil {
		sink(line)
	}
}

// Summarize sets the one-line result.
func (e *Evidence) Summarize(format string, args ...any) { e.Summary = fmt.Sprintf(format, args...) }

// Check is one Phase 4 line (internal/phase4 names it: step, test, title,
// class) with how this package runs it.
type Check struct {
	phase4.Check
	// Manual is the runbook's command for this target.
	Manual func(tgt *target.Target) string
	// Run is a method expression of Checker: (*Checker).logs.
	Run func(c *Checker, ctx context.Context, ev *Evidence) error
}

// impls is how each of phase4.Checks is run, by its test.
var impls = map[string]Check{
	phase4.Logs.Test:              {Manual: logsManual, Run: (*Checker).logs},
	phase4.NoSQLErrors.Test:       {Manual: sqlManual, Run: (*Checker).sqlErrors},
	phase4.HealthChecks.Test:      {Manual: healthManual, Run: (*Checker).health},
	phase4.CriticalEndpoints.Test: {Manual: spotManual, Run: (*Checker).spotChecks},
	phase4.ErrorRate.Test:         {Manual: errorRateManual, Run: (*Checker).errorRate},
	phase4.NoCriticalAlerts.Test:  {Manual: alertsManual, Run: (*Checker).alerts},
}

// Checks returns phase4.Checks, in the order they run, each with how it
// runs. A check without an implementation is a bug: it panics (and
// TestEveryCheckIsImplemented says so first).
func Checks() []Check {
	out := make([]Check, len(phase4.Checks))
	for i, c := range phase4.Checks {
		im, ok := impls[c.Test]
		if !ok {
			panic("postdeploy: phase4 check " + c.Test + " (Step " + c.Step + ") has no implementation")
		}
		im.Check = c
		out[i] = im
	}
	return out
}

// Lookup returns the check a test runs.
func Lookup(test string) (Check, bool) {
	for _, c := range Checks() {
		if c.Test == test {
			return c, true
		}
	}
	return Check{}, false
}

// Checker holds what the checks of one run share: the target, when the
// new version went live, the cluster client and the logs once read.
type Checker struct {
	Target *target.Target
	// Since is when Phase 3 ended: the checks look at what happened after
	// it. Zero: the last LogWindow / ErrorRateWindow.
	Since time.Time

	mu       sync.Mutex
	cs       kubernetes.Interface
	logLines map[string][]kube.LogLine
	logsErr  error
	logsAt   time.Time
	logsWin  time.Duration
}

// NewChecker returns a Checker for the target; since is the end of Phase 3
// (zero when unknown).
func NewChecker(tgt *target.Target, since time.Time) *Checker {
	return &Checker{Target: tgt, Since: since}
}

// Run runs one check with its deadline and returns what it saw. Lines are
// passed to show as they are recorded (nil: only kept). Every string is
// redacted with the target's secrets.
func (c *Checker) Run(ctx context.Context, ch Check, show func(string)) (*Evidence, error) {
	ev := &Evidence{sink: show}
	if show != nil {
		ev.sink = func(s string) { show(c.Target.Redact(s)) }
	}
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	err := ch.Run(c, ctx, ev)
	for i, l := range ev.Lines {
		ev.Lines[i] = c.Target.Redact(l)
	}
	for k, v := range ev.Data {
		ev.Data[k] = c.Target.Redact(v)
	}
	ev.Summary = c.Target.Redact(ev.Summary)
	if err != nil {
		return ev, &redacted{msg: c.Target.Redact(err.Error()), runbookSide: retry.RunbookSide(err)}
	}
	return ev, nil
}

// redacted is a check's error as printed (secrets removed). It keeps no
// cause to unwrap (a caller printing the cause would print the secrets);
// whether it is on the runbook's side (an unreachable target, not a wrong
// answer) is decided from the cause here, once (retry.Classified).
type redacted struct {
	msg         string
	runbookSide bool
}

func (e *redacted) Error() string     { return e.msg }
func (e *redacted) RunbookSide() bool { return e.runbookSide }

func (c *Checker) kube() (kubernetes.Interface, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cs != nil {
		return c.cs, nil
	}
	cs, err := kube.ForTarget(c.Target)
	if err != nil {
		return nil, err
	}
	c.cs = cs
	return cs, nil
}

// SetKube makes the checker use cs instead of a client from the target's
// kubeconfig.
func (c *Checker) SetKube(cs kubernetes.Interface) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cs = cs
}

// window is how far back a check looks: since Since (at least min, at most
// max), or def when Since is unknown.
func (c *Checker) window(now time.Time, min, max, def time.Duration) time.Duration {
	if c.Since.IsZero() {
		return def
	}
	w := now.Sub(c.Since).Truncate(time.Second) + time.Second
	if w < min {
		w = min
	}
	if w > max {
		w = max
	}
	return w
}

// sinceText says where a window starts, for messages.
func sinceText(now time.Time, w time.Duration) string {
	return fmt.Sprintf("since %s UTC (the last %s)", now.Add(-w).UTC().Format("15:04:05"), w)
}

// PhaseThreeEnded reads when Phase 3 ended from the journal in dir: the
// time of its last successful phase3 entry. Zero when there is none (no
// journal, or Phase 3 did not finish).
func PhaseThreeEnded(dir string) time.Time {
	if dir == "" {
		return time.Time{}
	}
	entries, err := journal.Read(dir)
	if err != nil {
		return time.Time{}
	}
	e, ok := journal.Last(entries, func(e journal.Entry) bool { return e.Phase == journal.Phase3 && e.Status == journal.StatusOK })
	if !ok {
		return time.Time{}
	}
	return e.Time
}

// firstN keeps the first n lines and says how many more there were.
func firstN(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	return append(append([]string(nil), lines[:n]...), fmt.Sprintf("... and %d more", len(lines)-n))
}

func joinSorted(m map[string]string, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+m[k])
	}
	return strings.Join(parts, sep)
}
