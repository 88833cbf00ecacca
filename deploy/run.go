package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

// Options are the settings of one Run.
type Options struct {
	// Out receives the step lines, progress and results (the CLI's
	// standard output). Nil: discarded.
	Out io.Writer
	// Journal receives one entry per step; nil: no journal.
	Journal *journal.Journal
	// RunDir is the run folder (gates write their results there).
	RunDir string
	// DryRun prints the plan and touches nothing.
	DryRun bool
	// Confirm is the confirmation word given (CONFIRM=, --confirm=).
	Confirm string
	// Kube replaces the client built from the target's kubeconfig.
	Kube kubernetes.Interface
	// MigratorEnv is added to the migration commands' environment.
	MigratorEnv []string
	// History is what earlier commands of the same run journaled: Step 3.1
	// reads the replica count recorded by a drain run separately.
	History []journal.Entry
}

// State is what the steps of one run share.
type State struct {
	Target  *target.Target
	Version string
	RunDir  string
	Started time.Time

	// ReplicasBefore is each drained deployment's replica count before
	// Step 1.3, restored by Phase 3.
	ReplicasBefore map[string]int32
	// PodIPsBefore are the drained deployments' pod IPs before Step 1.3
	// (Step 1.4 looks for sessions from them).
	PodIPsBefore map[string][]string
	// Phase3Ended is when the last Phase 3 step succeeded: Phase 4 looks at
	// what happened after it.
	Phase3Ended time.Time

	migratorEnv []string
	kubeOnce    sync.Once
	kube        kubernetes.Interface
	kubeErr     error
}

// Kube is the target's cluster, connected on first use.
func (s *State) Kube() (kubernetes.Interface, error) {
	s.kubeOnce.Do(func() {
		if s.kube == nil {
			s.kube, s.kubeErr = kube.ForTarget(s.Target)
		}
	})
	return s.kube, s.kubeErr
}

// Namespace is the target's Kubernetes namespace.
func (s *State) Namespace() string {
	if s.Target.Kube == nil {
		return ""
	}
	return s.Target.Kube.Namespace
}

// Record is how a step reports: detail lines as they happen (indented,
// redacted), the journal's Data keys and the one-line result.
type Record struct {
	w      io.Writer
	redact func(string) string
	mu     sync.Mutex
	data   map[string]string
	result string
}

// Set records one journal Data key.
func (r *Record) Set(key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.data == nil {
		r.data = map[string]string{}
	}
	r.data[key] = value
}

// Get returns a Data key set earlier by the step.
func (r *Record) Get(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data[key]
}

// Logf prints one detail line under the step.
func (r *Record) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, line := range strings.Split(r.redact(fmt.Sprintf(format, args...)), "\n") {
		fmt.Fprintf(r.w, "      %s\n", line)
	}
}

// Resultf sets the step's one-line result, printed after ✅.
func (r *Record) Resultf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.result = r.redact(fmt.Sprintf(format, args...))
}

// Writer is an io.Writer whose lines are printed under the step, redacted
// (for progress reporters and child processes).
func (r *Record) Writer() io.Writer { return &lineWriter{r: r} }

type lineWriter struct {
	r   *Record
	mu  sync.Mutex
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		w.r.Logf("%s", line)
	}
	return len(p), nil
}

// StepResult is what became of one step.
type StepResult struct {
	Step     Step
	Status   string // journal.StatusOK, StatusFailed, StatusDryRun
	Err      error
	Result   string
	Data     map[string]string
	Started  time.Time
	Duration time.Duration
}

// PhaseTiming is one phase's duration against the runbook's window.
type PhaseTiming struct {
	Phase    journal.Window
	Started  time.Time
	Duration time.Duration
	Steps    int
	Failed   bool
}

// Over reports whether the phase took longer than its window.
func (p PhaseTiming) Over() bool { return p.Duration > p.Phase.Budget() }

// Outcome is what a Run did.
type Outcome struct {
	Target  *target.Target
	Version string
	DryRun  bool
	Steps   []StepResult
	Phases  []PhaseTiming
	// Failed is the step that stopped the sequence; nil when none did.
	Failed *StepResult
	// Refused is set when the run was refused before any step.
	Refused error
	// Changed says what the run changed on the target, in words.
	Changed []string
	// Code is the exit code (internal/exitcode).
	Code int
	// Next is the command to run now; "" when nothing is to be done.
	Next string
	// NextWhy says why.
	NextWhy  string
	Duration time.Duration
}

// refusal is the reason a run that needs the target's confirmation word
// was refused.
func refusal(env, word, given string, steps []string) error {
	g := "no confirmation was given"
	if given != "" {
		g = fmt.Sprintf("--confirm=%s does not match", given)
	}
	return exitcode.Refuse("", fmt.Sprintf("%s would change %s and %s; nothing was touched. Run again with CONFIRM=%s (or --confirm=%s), or with --dry-run to see the plan",
		strings.Join(steps, ", "), env, g, word, word))
}

// CheckConfirm refuses steps that change a target that has a confirmation
// word unless given is that word (an *exitcode.Refusal, exit code 8). Dry
// runs need no confirmation.
func CheckConfirm(tgt *target.Target, given string, steps []Step) error {
	if tgt.Confirm == "" || given == tgt.Confirm {
		return nil
	}
	var need []string
	for _, s := range steps {
		if s.Changes != ChangesNothing {
			need = append(need, s.Label())
		}
	}
	if len(need) == 0 {
		return nil
	}
	return refusal(tgt.Env, tgt.Confirm, given, need)
}

// Run runs steps in order against the target and stops at the first that
// fails. It never panics: a panicking step fails with its stack.
func Run(ctx context.Context, tgt *target.Target, version string, steps []Step, o Options) *Outcome {
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	out = &redactingWriter{w: out, redact: tgt.Redact}
	began := time.Now()
	oc := &Outcome{Target: tgt, Version: version, DryRun: o.DryRun}
	defer func() { oc.Duration = time.Since(began) }()
	st := &State{Target: tgt, Version: version, RunDir: o.RunDir, Started: began, kube: o.Kube,
		migratorEnv: o.MigratorEnv, ReplicasBefore: map[string]int32{}, PodIPsBefore: map[string][]string{}}
	st.seed(o.History)
	if len(steps) == 0 {
		fmt.Fprintln(out, "runbook: nothing to run: the plan has no step")
		oc.Code = exitcode.Config
		return oc
	}

	mode := "RUN"
	if o.DryRun {
		mode = "DRY RUN: nothing will be touched"
	}
	fmt.Fprintf(out, "runbook: %s %s to %s (%s), %d steps — %s\n", verb(steps), version, tgt.Env, tgt.File, len(steps), mode)
	if !o.DryRun {
		if err := CheckConfirm(tgt, o.Confirm, steps); err != nil {
			oc.Refused, oc.Code = err, exitcode.Refused
			journalAdd(o.Journal, journal.Entry{Phase: steps[0].Phase, Step: steps[0].ID, Action: "refused: no confirmation for " + tgt.Env,
				Status: journal.StatusFailed, Error: err.Error(), Data: map[string]string{journal.KeyClass: exitcode.Class(exitcode.Refused), journal.KeyVersion: version}})
			return oc
		}
	}

	var phase journal.Phase
	for _, step := range steps {
		if step.Phase != phase {
			phase = step.Phase
			p := journal.WindowOf(phase)
			fmt.Fprintf(out, "\n━━ %s (runbook window %s, %s) ━━\n", p.Title, p.Clock(), short(p.Budget()))
		}
		res := runStep(ctx, st, step, o, out)
		oc.Steps = append(oc.Steps, res)
		if res.Status == journal.StatusFailed {
			oc.Failed = &oc.Steps[len(oc.Steps)-1]
			break
		}
	}
	oc.Phases = timings(oc.Steps)
	oc.Changed = changed(oc.Steps)
	switch {
	case oc.Failed != nil:
		oc.Code = oc.Failed.Step.Class
		if c, ok := exitcode.FromClass(oc.Failed.Data[journal.KeyClass]); ok {
			oc.Code = c
		}
		if oc.Code == exitcode.OK {
			oc.Code = exitcode.Internal
		}
	default:
		oc.Code = exitcode.OK
	}
	oc.Next, oc.NextWhy = next(oc)
	return oc
}

func verb(steps []Step) string {
	if len(steps) > 1 {
		return "deploying"
	}
	return "running " + steps[0].Label() + " for"
}

// runStep runs one step: the header, the manual command, the run (or, dry,
// what it would do), the result and the journal entry.
func runStep(ctx context.Context, st *State, step Step, o Options, out io.Writer) StepResult {
	fmt.Fprintf(out, "\n▶ %s\n", step.Label())
	if step.Manual != "" {
		fmt.Fprintf(out, "    runbook: %s\n", step.Manual)
	}
	res := StepResult{Step: step, Started: time.Now()}
	entry := journal.Entry{Phase: step.Phase, Step: step.ID, Action: step.Title, Manual: step.Manual, Started: res.Started.UTC()}
	if o.DryRun {
		fmt.Fprintf(out, "    would:   %s\n", step.Would)
		res.Status = journal.StatusDryRun
		entry.Status, entry.Action = journal.StatusDryRun, step.Title+": would "+step.Would
		entry.Data = map[string]string{journal.KeyVersion: st.Version}
		journalAdd(o.Journal, entry)
		return res
	}
	rec := &Record{w: out, redact: st.Target.Redact}
	sctx := ctx
	if step.Timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeoutCause(ctx, step.Timeout, fmt.Errorf("%s: the step's deadline of %s passed", step.Label(), step.Timeout))
		defer cancel()
	}
	err := protect(func() error { return step.Run(sctx, st, rec) })
	if err != nil && sctx.Err() != nil && !strings.Contains(err.Error(), "deadline") {
		err = fmt.Errorf("%w (%v)", err, context.Cause(sctx))
	}
	res.Duration = time.Since(res.Started)
	res.Data, res.Result = rec.data, rec.result
	if res.Data == nil {
		res.Data = map[string]string{}
	}
	res.Data[journal.KeyVersion] = st.Version
	entry.Duration, entry.Data = res.Duration, res.Data
	if err != nil {
		res.Err = errors.New(st.Target.Redact(err.Error()))
		res.Status = journal.StatusFailed
		fmt.Fprintf(out, "    ❌ FAILED after %s: %s\n", short(res.Duration), indent(res.Err.Error(), "       "))
		entry.Status, entry.Error = journal.StatusFailed, res.Err.Error()
		if c := exitcode.Class(step.Class); c != "" && res.Data[journal.KeyClass] == "" {
			res.Data[journal.KeyClass] = c
		}
	} else {
		res.Status = journal.StatusOK
		fmt.Fprintf(out, "    ✅ %s   [%s]\n", orDefault(res.Result, "done"), short(res.Duration))
		entry.Status = journal.StatusOK
		if res.Result != "" {
			entry.Action = step.Title + ": " + res.Result
		}
		if step.Phase == journal.Phase3 {
			st.Phase3Ended = time.Now()
		}
	}
	if err := journalAdd(o.Journal, entry); err != nil {
		fmt.Fprintf(out, "    ⚠ journal: %v\n", err)
	}
	return res
}

func journalAdd(j *journal.Journal, e journal.Entry) error {
	if j == nil {
		return nil
	}
	return j.Add(e)
}

// protect turns a panic in a step into its error, with the stack.
func protect(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return fn()
}

// seed reads what earlier commands of this run journaled.
func (s *State) seed(history []journal.Entry) {
	for _, e := range history {
		if e.Phase == journal.Phase1 && e.Step == "1.3" && e.Status == journal.StatusOK {
			if n, err := strconv.Atoi(e.Data[journal.KeyReplicasBefore]); err == nil && e.Data[journal.KeyDeployment] != "" {
				s.ReplicasBefore[e.Data[journal.KeyDeployment]] = int32(n)
			}
		}
	}
}

func timings(steps []StepResult) []PhaseTiming {
	var out []PhaseTiming
	for _, s := range steps {
		if s.Status == journal.StatusDryRun {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Phase.Phase != s.Step.Phase {
			out = append(out, PhaseTiming{Phase: journal.WindowOf(s.Step.Phase), Started: s.Started})
		}
		p := &out[len(out)-1]
		p.Steps++
		p.Duration = s.Started.Add(s.Duration).Sub(p.Started)
		p.Failed = p.Failed || s.Status == journal.StatusFailed
	}
	return out
}

// changed says, in words, what the steps that ran changed on the target. A
// failed migration may have applied some migrations: it counts.
func changed(steps []StepResult) []string {
	var out []string
	var images, drained []string
	restored := map[string]bool{}
	for _, s := range steps {
		if s.Step.Changes == ChangesImages && s.Status == journal.StatusOK && s.Data["replicas"] != "" {
			restored[s.Data[journal.KeyDeployment]] = true
		}
	}
	for _, s := range steps {
		if s.Status != journal.StatusOK && s.Status != journal.StatusFailed {
			continue
		}
		switch s.Step.Changes {
		case ChangesDatabase:
			what := "the database (Step " + s.Step.ID + " ran the migrations"
			if n := s.Data[journal.KeyMigrationsNew]; n != "" {
				what += ": " + n + " applied"
			} else if s.Status == journal.StatusFailed {
				what += " and failed: some may be applied"
			}
			out = append(out, what+")")
		case ChangesImages:
			if d := s.Data[journal.KeyDeployment]; d != "" && s.Data[journal.KeyImageAfter] != "" {
				images = append(images, d+" "+s.Data[journal.KeyImageBefore]+" -> "+s.Data[journal.KeyImageAfter])
			} else if s.Status == journal.StatusFailed {
				images = append(images, s.Data[journal.KeyDeployment]+" (set image failed; check it)")
			}
		case ChangesReplicas:
			if d := s.Data[journal.KeyDeployment]; d != "" && !restored[d] {
				drained = append(drained, fmt.Sprintf("%s drained from %s replicas to 0", d, orDefault(s.Data[journal.KeyReplicasBefore], "?")))
			}
		}
	}
	if len(images) > 0 {
		out = append(out, "the images of "+strings.Join(images, ", "))
	}
	out = append(out, drained...)
	return out
}

// next is the command to run after the outcome.
func next(oc *Outcome) (string, string) {
	env := oc.Target.Env
	confirm := ""
	if oc.Target.Confirm != "" {
		confirm = " CONFIRM=" + oc.Target.Confirm
	}
	rollback := "make rollback ENV=" + env + confirm
	dbOrImages := false
	drainedOnly := false
	var what []string
	for _, c := range oc.Changed {
		switch {
		case strings.HasPrefix(c, "the database"):
			dbOrImages = true
			what = append(what, "the database")
		case strings.HasPrefix(c, "the images"):
			dbOrImages = true
			what = append(what, "the images")
		default:
			drainedOnly = true
		}
	}
	switch {
	case oc.DryRun:
		return "make deploy ENV=" + env + " VERSION=" + oc.Version + confirm, "the plan above is what it will do"
	case oc.Refused != nil:
		return "make deploy ENV=" + env + " VERSION=" + oc.Version + " CONFIRM=" + oc.Target.Confirm, "confirm that this run may change " + env
	case oc.Failed == nil && len(oc.Steps) > 0 && oc.Steps[len(oc.Steps)-1].Step.Phase == journal.Phase4:
		return "make monitor ENV=" + env, "Phase 4 passed: the MONITORING PHASE (15:00, 4 hours) is next"
	case oc.Failed == nil:
		return "", ""
	case dbOrImages:
		return rollback, "the run already changed " + strings.Join(what, " and ") + " (\"changed\" above): the runbook's way back is the ROLLBACK PROCEDURE; it restores the backup of Step 1.1 and the images recorded in the journal"
	case drainedOnly:
		return rollback, "only the drain ran (" + strings.Join(oc.Changed, "; ") + "); the rollback brings the services back (or scale back by hand: " +
			kube.Describe(oc.Target) + " scale deployment/" + target.BackendCore + " --replicas=N)"
	case oc.Failed.Step.Phase == journal.Preflight:
		return "make preflight ENV=" + env, "a checklist item blocks: nothing was changed; fix it and run the checklist again"
	}
	return "make deploy ENV=" + env + " VERSION=" + oc.Version + confirm, "nothing was changed on the target: fix the cause and run again"
}

// WriteSummary prints the end of a run: the outcome, each phase's duration
// against the runbook's window and, on failure, the phase, the step, the
// cause, what changed and the next command.
func (oc *Outcome) WriteSummary(w io.Writer, runDir string) {
	w = &redactingWriter{w: w, redact: oc.Target.Redact}
	fmt.Fprintln(w)
	if len(oc.Phases) > 0 {
		fmt.Fprintln(w, "Phase durations against the runbook's windows:")
		for _, p := range oc.Phases {
			mark := "✅ within"
			switch {
			case p.Failed:
				mark = "❌ failed"
			case p.Over():
				mark = fmt.Sprintf("⚠ over by %s", short(p.Duration-p.Phase.Budget()))
			}
			fmt.Fprintf(w, "  %-38s %s (%5s)  took %-8s %s\n", p.Phase.Title, p.Phase.Clock(), short(p.Phase.Budget()), short(p.Duration), mark)
		}
	}
	switch {
	case oc.Refused != nil:
		fmt.Fprintf(w, "\n⛔ REFUSED (exit %d, %s): %v\n", oc.Code, exitcode.Name(oc.Code), oc.Refused)
	case oc.DryRun:
		fmt.Fprintf(w, "\nDRY RUN: %d steps planned, nothing was touched.\n", len(oc.Steps))
	case oc.Failed != nil:
		f := oc.Failed
		where := f.Step.Label()
		if p := journal.WindowOf(f.Step.Phase).Title; p != where {
			where += " — " + p
		}
		fmt.Fprintf(w, "\n══ DEPLOYMENT STOPPED at %s ══\n", where)
		fmt.Fprintf(w, "  cause:   %s\n", indent(f.Err.Error(), "           "))
		if f.Step.Manual != "" {
			fmt.Fprintf(w, "  runbook: %s\n", f.Step.Manual)
		}
		if len(oc.Changed) > 0 {
			fmt.Fprintf(w, "  changed: %s\n", strings.Join(oc.Changed, "\n           "))
		} else {
			fmt.Fprintf(w, "  changed: nothing on the target\n")
		}
	default:
		fmt.Fprintf(w, "\n✅ %d steps passed in %s: %s deployed to %s.\n", len(oc.Steps), short(oc.Duration), oc.Version, oc.Target.Env)
	}
	if oc.Next != "" {
		fmt.Fprintf(w, "  next:    %s\n           (%s)\n", oc.Next, oc.NextWhy)
	}
	if runDir != "" {
		fmt.Fprintf(w, "  run folder: %s\n", runDir)
	}
	fmt.Fprintf(w, "  exit code %d (%s)\n", oc.Code, exitcode.Name(oc.Code))
}

// redactingWriter removes the target's secrets from everything written.
type redactingWriter struct {
	w      io.Writer
	redact func(string) string
	mu     sync.Mutex
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := io.WriteString(r.w, r.redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// short prints a duration the way people read it: 850ms, 12.3s, 4m10s.
func short(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

func indent(s, prefix string) string { return strings.ReplaceAll(s, "\n", "\n"+prefix) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// RunName is the name of a run folder (its base name), the journal's run.
func RunName(dir string) string { return filepath.Base(dir) }

// absDir makes a run folder absolute, for child processes.
func absDir(dir string) string {
	if dir == "" {
		return ""
	}
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}
