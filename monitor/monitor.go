package monitor

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/progress"
	"github.com/granter/runbook/internal/target"
)

// MinWindow is the shortest window a round looks back over: rate() needs
// several scrapes, and a compressed drill's intervals can be shorter.
const MinWindow = 5 * time.Second

// DefaultMemoryGrowth is the "memory usage: stable" limit: a sustained
// growth that, kept up for the whole watch, would add a quarter to the
// services' resident memory.
const DefaultMemoryGrowth = 0.25

// Options are the optional settings of a watch; the zero value watches the
// runbook's four hours with every check.
type Options struct {
	// Schedule is when the rounds run (default RunbookSchedule). Drills
	// pass a compressed one (Schedule.Compress, or "10s x6").
	Schedule Schedule
	// Out receives a line per round and per breach, and the progress of the
	// wait between rounds (default: nowhere).
	Out io.Writer
	// Journal, when set, gets one entry per round and one for the watch
	// (phase "monitor").
	Journal *journal.Journal
	// NoSmoke leaves out the light smoke round (logins, search).
	NoSmoke bool
	// MemoryGrowth is the memory limit (default DefaultMemoryGrowth).
	MemoryGrowth float64
	// CPULimits are the CPU cores each service may use (its pods' limit),
	// by service; a service not listed gets CPUCores, else one core.
	CPULimits map[string]float64
	CPUCores  float64
	// KeepGoing watches on after a failed round (default: stop at the first
	// one: the gate has failed and the on-call must act).
	KeepGoing bool
	// OnRound is called after each round, from the watch's goroutine.
	OnRound func(Round)
}

// Monitor measures the runbook's key metrics for one target. It keeps what
// one round needs from the previous (pg_stat_statements counters), so use
// one Monitor per watch.
type Monitor struct {
	tgt       *target.Target
	opts      Options
	prom      *metrics.Client
	sel       string
	started   time.Time
	stmtPrev  map[stmtKey]stmtStat
	cpuLimits map[string]float64
	kubeOnce  sync.Once
	cs        kubernetes.Interface
	csErr     error
}

// New prepares a watch of tgt. It fails only on settings that make every
// round meaningless (a malformed Prometheus URL, a negative threshold).
func New(tgt *target.Target, opts Options) (*Monitor, error) {
	if len(opts.Schedule.Stages) == 0 {
		opts.Schedule = MustParseSchedule(RunbookSchedule)
	}
	if err := ScheduleAllowed(tgt, opts.Schedule); err != nil {
		return nil, err
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.MemoryGrowth == 0 {
		opts.MemoryGrowth = DefaultMemoryGrowth
	}
	if opts.MemoryGrowth < 0 || opts.CPUCores < 0 {
		return nil, exitcode.Wrap(exitcode.Config, fmt.Errorf("monitor: memory growth %g and CPU cores %g must not be negative", opts.MemoryGrowth, opts.CPUCores))
	}
	m := &Monitor{tgt: tgt, opts: opts, cpuLimits: opts.CPULimits, started: time.Now()}
	if p := tgt.Prometheus; p != nil && p.URL != "" {
		c, err := metrics.New(p.URL)
		if err != nil {
			return nil, exitcode.Wrap(exitcode.Config, fmt.Errorf("%s: prometheus.url: %w", tgt.File, err))
		}
		m.prom, m.sel = c, p.Selector
	}
	return m, nil
}

// Round is one monitoring round: every check, when it ran, what it looked
// back over.
type Round struct {
	Slot
	Started  time.Time
	Duration time.Duration
	Checks   []Check
}

// Failing returns the checks that fail the round (breaches and no data).
func (r Round) Failing() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Failed() {
			out = append(out, c)
		}
	}
	return out
}

// Passed reports whether no check failed (skipped ones are listed, never
// counted as passed, and do not fail the round).
func (r Round) Passed() bool { return len(r.Failing()) == 0 }

// Err is a *BreachError listing the failing checks; nil when none failed.
func (r Round) Err() error {
	if f := r.Failing(); len(f) > 0 {
		return &BreachError{Round: r.N, Checks: f}
	}
	return nil
}

// DatabaseTimeout bounds a round's database reads (pg_stat_statements,
// pg_stat_activity), connection included.
const DatabaseTimeout = 20 * time.Second

// Check runs one round now: the metrics over the slot's window, then the
// light smoke flows.
func (m *Monitor) Check(ctx context.Context, slot Slot) Round {
	r := Round{Slot: slot, Started: time.Now()}
	w := slot.Window
	r.Checks = append(r.Checks,
		m.errorRate(ctx, w),
		m.p95(ctx, w),
	)
	// The database reads get a deadline of their own: a stuck query (a lock
	// wait, a cut network) must fail this round, not freeze the watch.
	dctx, cancel := context.WithTimeout(ctx, DatabaseTimeout)
	var conn *pgx.Conn
	var connErr error
	if m.hasDatabase() {
		conn, connErr = m.connect(dctx)
	}
	r.Checks = append(r.Checks, m.dbQuery(dctx, w, conn, connErr), m.connections(dctx, conn, connErr))
	cancel()
	if conn != nil {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := conn.Close(cctx); err != nil {
			fmt.Fprintf(m.opts.Out, "monitor: WARNING: closing the database session: %v\n", err)
		}
		ccancel()
	}
	r.Checks = append(r.Checks,
		m.memory(ctx, r.Started),
		m.cpu(ctx, w),
		m.alerts(ctx),
		m.restarts(ctx, r.Started, w),
	)
	if !m.opts.NoSmoke {
		r.Checks = append(r.Checks, m.smoke(ctx)...)
	}
	r.Duration = time.Since(r.Started)
	return r
}

// Result is a whole watch.
type Result struct {
	Schedule Schedule
	Started  time.Time
	Ended    time.Time
	Rounds   []Round
	// Failed is the first failed round (nil when every round passed) and
	// Decision the rollback rule applied to it.
	Failed   *Round
	Decision Decision
}

// Watch runs the schedule: a round at the start, then one at the end of
// every interval, waiting on timers under ctx (a cancelled ctx ends the
// watch at once). Each round is printed and journaled. The first failed
// round ends the watch (unless KeepGoing) with a *BreachError, wrapped with
// exit code SLO; Result.Decision says whether the rollback rule fired.
func Watch(ctx context.Context, tgt *target.Target, opts Options) (Result, error) {
	m, err := New(tgt, opts)
	if err != nil {
		return Result{}, err
	}
	return m.Watch(ctx)
}

// Watch is the package-level Watch on an existing Monitor.
func (m *Monitor) Watch(ctx context.Context) (Result, error) {
	o := m.opts
	slots := o.Schedule.Slots()
	m.started = time.Now()
	res := Result{Schedule: o.Schedule, Started: m.started}
	total := o.Schedule.Total()
	fmt.Fprintf(o.Out, "monitor: watching %s for %s: %d rounds (%s), until %s\n",
		describe(m.tgt), short(total), len(slots), o.Schedule, m.started.Add(total).Format("15:04:05"))
	every := min(max(total/48, 5*time.Second), 5*time.Minute)
	prog := progress.New(o.Out, "monitor: watching", int64(total), progress.In(progress.Duration), progress.Every(every))
	defer prog.Done("stopped") //nolint:errcheck // the watch's own lines report write errors below

	var watchErr error
	for _, slot := range slots {
		slot.Window = max(slot.Window, MinWindow)
		if err := waitUntil(ctx, m.started.Add(slot.At)); err != nil {
			watchErr = fmt.Errorf("monitor: watch interrupted before round %d/%d (%d rounds done): %w", slot.N, slot.Of, len(res.Rounds), context.Cause(ctx))
			break
		}
		r := m.Check(ctx, slot)
		if ctx.Err() != nil { // stopped during the round: what it saw proves nothing
			watchErr = fmt.Errorf("monitor: watch interrupted during round %d/%d (%d rounds done): %w", slot.N, slot.Of, len(res.Rounds), context.Cause(ctx))
			break
		}
		res.Rounds = append(res.Rounds, r)
		m.print(r)
		m.journalRound(r)
		if o.OnRound != nil {
			o.OnRound(r)
		}
		prog.Update(int64(time.Since(m.started)))
		if !r.Passed() && res.Failed == nil {
			failed := r
			res.Failed = &failed
			res.Decision = ShouldRollback(r.Checks, m.tgt.Thresholds)
			fmt.Fprintf(o.Out, "monitor: %s\n", res.Decision.Reason)
			if !o.KeepGoing {
				break
			}
		}
		if slot.N < slot.Of {
			prog.Note("round %d/%d %s; next round %d/%d at %s", slot.N, slot.Of, verdict(r), slot.N+1, slot.Of,
				m.started.Add(slots[slot.N].At).Format("15:04:05"))
		}
	}
	res.Ended = time.Now()
	switch {
	case res.Failed != nil:
		_ = prog.Done("FAILED")
		watchErr = exitcode.Wrap(exitcode.SLO, res.Failed.Err())
	case watchErr != nil:
		// Stopped (Ctrl-C, SIGTERM) before any round failed: not a breach.
		// The watch is incomplete, so its evidence is missing (Internal).
		_ = prog.Done("interrupted")
		watchErr = exitcode.Wrap(exitcode.Internal, fmt.Errorf("the watch was interrupted before it completed: %w", watchErr))
	default:
		_ = prog.Done("done")
	}
	m.journalWatch(res, watchErr)
	return res, watchErr
}

// waitUntil waits for t on a timer, or for ctx.
func waitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func verdict(r Round) string {
	if r.Passed() {
		return "ok"
	}
	return "FAILED"
}

func describe(t *target.Target) string {
	if t.Version != "" {
		return t.Env + " (" + t.Version + ")"
	}
	return t.Env
}

// print writes a round: one line for it, one per check (full evidence for
// a failing one).
func (m *Monitor) print(r Round) {
	out := m.opts.Out
	fmt.Fprintf(out, "monitor: round %d/%d at %s (t+%s, window %s): %s\n", r.N, r.Of, r.Started.Format("15:04:05"),
		short(r.At.Round(time.Second)), short(r.Window), verdict(r))
	for _, c := range r.Checks {
		if c.Passed() {
			fmt.Fprintf(out, "  ok      %s %s (%s; %s)\n", c.Metric, c.Shown, c.ThresholdShown, c.Source)
			continue
		}
		fmt.Fprintf(out, "  %s\n", m.tgt.Redact(c.String()))
	}
}

// journalRound writes one entry per round: the runbook's step, its checks
// as Data (K, K.threshold, K.query, ...), ok or failed.
func (m *Monitor) journalRound(r Round) {
	j := m.opts.Journal
	if j == nil {
		return
	}
	data := map[string]string{"round": strconv.Itoa(r.N), "rounds": strconv.Itoa(r.Of), "window": short(r.Window)}
	if m.tgt.Version != "" {
		data[journal.KeyVersion] = m.tgt.Version
	}
	for _, c := range r.Checks {
		for k, v := range journalData(c) {
			data[k] = v
		}
	}
	e := journal.Entry{Phase: journal.Monitor, Step: fmt.Sprintf("round %d/%d", r.N, r.Of), Started: r.Started, Duration: r.Duration,
		Action: fmt.Sprintf("monitoring round %d of %d at t+%s (window %s): %d checks", r.N, r.Of, short(r.At.Round(time.Second)), short(r.Window), len(r.Checks)),
		Status: journal.StatusOK, Data: data}
	if err := r.Err(); err != nil {
		e.Status, e.Error = journal.StatusFailed, err.Error()
		e.Data[journal.KeyClass] = exitcode.Class(exitcode.SLO)
	}
	if err := j.Add(e); err != nil {
		fmt.Fprintf(m.opts.Out, "monitor: WARNING: journal: %v\n", err)
	}
}

func (m *Monitor) journalWatch(res Result, watchErr error) {
	j := m.opts.Journal
	if j == nil {
		return
	}
	watched := res.Ended.Sub(res.Started).Round(time.Second)
	e := journal.Entry{Phase: journal.Monitor, Step: "watch", Started: res.Started, Duration: res.Ended.Sub(res.Started),
		Data: map[string]string{"monitor.schedule": res.Schedule.String(), "monitor.rounds": strconv.Itoa(len(res.Rounds))}}
	if watchErr != nil {
		e.Status, e.Error = journal.StatusFailed, watchErr.Error()
		e.Action = fmt.Sprintf("watch stopped after %s and %d rounds", watched, len(res.Rounds))
		if res.Failed != nil {
			e.Data[journal.KeyClass] = exitcode.Class(exitcode.SLO)
			e.Data["rollback.trigger"] = strconv.FormatBool(res.Decision.Rollback)
			e.Data["rollback.reason"] = res.Decision.Reason
		}
	} else {
		e.Status = journal.StatusOK
		e.Action = fmt.Sprintf("watched %s: %d rounds, no check failed", watched, len(res.Rounds))
		e.Data[journal.KeyMonitorWindow] = watched.String()
		if res.Schedule.Total() < phase4.MonitorWindow && m.tgt.Rehearsal {
			e.Data[journal.KeyMonitorRehearsal] = "true"
		}
	}
	if err := j.Add(e); err != nil {
		fmt.Fprintf(m.opts.Out, "monitor: WARNING: journal: %v\n", err)
	}
}

// journalData is a check as the report reads it: machine values (a ratio,
// a Go duration, a percentage, a count), the threshold beside it.
func journalData(c Check) map[string]string {
	d := map[string]string{}
	if c.Query != "" {
		d[c.Key+".query"] = c.Query
	}
	if c.Source != "" {
		d[c.Key+".source"] = c.Source
	}
	if c.Window > 0 {
		d[c.Key+".window"] = short(c.Window)
	}
	if c.Detail != "" {
		d[c.Key+".detail"] = c.Detail
	}
	if c.Err != nil && c.Status != Breach {
		d[c.Key+".error"] = c.Err.Error()
	}
	if c.Rate != nil {
		// A rate claim: the counts it was decided from, the bounds, the
		// verdict (INCONCLUSIVE included), so the report and the rollback
		// rule decide from the same evidence.
		for k, v := range journal.RateData(*c.Rate) {
			d[k] = v
		}
		return d
	}
	if measured := (c.Status == Pass || c.Status == Breach) && !math.IsNaN(c.Value); !measured {
		// Not measured: say so, and no threshold beside it, so nothing
		// compares "no data" with a number.
		d[c.Key] = strings.ToLower(string(c.Status))
		if c.Key == keyAlerts {
			d[journal.KeyAlertsQuery] = c.Query
			delete(d, c.Key+".query")
		}
		return d
	}
	val := func(f func(float64) string) string { return f(c.Value) }
	ratio := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	dur := func(v float64) string { return time.Duration(v * float64(time.Second)).String() }
	percent := func(v float64) string { return strconv.FormatFloat(math.Round(v*1e4)/1e2, 'f', -1, 64) + "%" }
	switch c.Key {
	case keyErrorRate:
		d[c.Key], d[c.Key+".threshold"] = val(func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }), ratio(c.Threshold)
		if req := requests(c.Detail); req != "" {
			d[c.Key+".requests"] = req
		}
	case keyP95, keyDBQuery:
		d[c.Key], d[c.Key+".threshold"] = val(dur), dur(c.Threshold)
	case keyCPU, keyMemory:
		d[c.Key], d[c.Key+".threshold"] = val(percent), percent(c.Threshold)
	case keyConnections:
		d[c.Key], d[c.Key+".threshold"] = val(func(v float64) string { return strconv.Itoa(int(v)) }), strconv.Itoa(int(c.Threshold))
	case keyRestarts:
		d[c.Key], d[c.Key+".threshold"] = val(func(v float64) string { return strconv.Itoa(int(v)) }), strconv.Itoa(int(c.Threshold))
	case keyAlerts:
		d[c.Key] = val(func(v float64) string { return strconv.Itoa(int(v)) })
		delete(d, c.Key+".query")
		d[journal.KeyAlertsQuery] = c.Query
		if c.Detail != "" {
			d[journal.KeyAlertsCriticalNames] = c.Detail
		}
	default: // smoke.<flow>
		d[c.Key] = val(func(v float64) string { return map[bool]string{true: "passed", false: "failed"}[v == 0] })
	}
	return d
}

// requests pulls "1234" out of a detail "1234 requests, ...".
func requests(detail string) string {
	n, _, ok := strings.Cut(detail, " requests")
	if !ok || strings.ContainsAny(n, " ,") {
		return ""
	}
	return n
}
