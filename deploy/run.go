package deploy

import (
	"cmp"
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
	// Confirm is the confirmation word given on the command line
	// (--confirm=, which make passes for a CONFIRM= on its command line).
	Confirm string
	// Ask, when not nil, lets a person at a terminal confirm by typing
	// the environment and the version (Phrase) instead.
	Ask Prompt
	// Kube replaces the client built from the target's kubeconfig.
	Kube kubernetes.Interface
	// MigratorEnv is added to the migration commands' environment.
	MigratorEnv []string
	// History is what earlier commands of the same run journaled: Step 3.1
	// reads the replica count recorded by a drain run separately.
	History []journal.Entry
}

// Run runs steps in order against the target and stops at the first that
// fails, except in Phase 4: its steps only look, so after a failure there
// the others still run, and the rollback rule decides on all of Phase 4's
// evidence (a failed smoke flow must not hide the error rate). The first
// failure still decides the exit code. It never panics: a panicking step
// fails with its stack.
func Run(ctx context.Context, tgt *target.Target, version string, steps []Step, o Options) *Outcome {
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	out = &redactingWriter{w: out, redact: tgt.Redact}
	began := time.Now()
	oc := &Outcome{Target: tgt, Version: version, DryRun: o.DryRun, RunDir: o.RunDir}
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
		if err := checkConfirm(tgt, Confirmation{Given: o.Confirm, Ask: o.Ask}, version, steps); err != nil {
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
		if oc.Failed != nil && (step.Phase != journal.Phase4 || oc.Failed.Step.Phase != journal.Phase4 || ctx.Err() != nil) {
			break
		}
		if ctx.Err() != nil && oc.Failed == nil {
			// Interrupted between two steps: journal where it stopped,
			// before anything else runs.
			res := StepResult{Step: step, Status: journal.StatusFailed, Started: time.Now(),
				Err: fmt.Errorf("not started: %v", context.Cause(ctx)), Data: map[string]string{journal.KeyVersion: version}}
			if c := exitcode.Class(step.Class); c != "" {
				res.Data[journal.KeyClass] = c
			}
			fmt.Fprintf(out, "\n▶ %s\n    ❌ %v\n", step.Label(), res.Err)
			journalAdd(o.Journal, journal.Entry{Phase: step.Phase, Step: step.ID, Action: step.Title, Status: journal.StatusFailed,
				Error: res.Err.Error(), Started: res.Started.UTC(), Data: res.Data})
			oc.Steps = append(oc.Steps, res)
			oc.Failed = &oc.Steps[len(oc.Steps)-1]
			break
		}
		if oc.Failed != nil {
			fmt.Fprintf(out, "\n    (Phase 4 goes on after %s failed: its steps change nothing, and the rollback rule needs every gate's evidence, the error rate above all)\n", oc.Failed.Step.Label())
		}
		res := runStep(ctx, st, step, o, out)
		oc.Steps = append(oc.Steps, res)
		if res.Status == journal.StatusFailed && oc.Failed == nil {
			oc.Failed = &oc.Steps[len(oc.Steps)-1]
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
		if oc.Code == exitcode.Inconclusive {
			// A gate without a verdict must not hide one with a verdict:
			// a later Phase 4 step that failed on the release's side
			// decides the code.
			for _, s := range oc.Steps {
				c, ok := exitcode.FromClass(s.Data[journal.KeyClass])
				if s.Status == journal.StatusFailed && (!ok || c != exitcode.Inconclusive) {
					oc.Code = cmp.Or(c, s.Step.Class, exitcode.Internal)
					break
				}
			}
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
	if step.Changes != ChangesNothing {
		// Journal "started" before the step acts: a run killed in the
		// middle of it is planned by the rollback as if it happened.
		rec.started = func(action string, data map[string]string) error {
			data[journal.KeyVersion] = st.Version
			data[journal.KeyChanges] = step.Changes
			return journalAdd(o.Journal, journal.Entry{Phase: step.Phase, Step: step.ID, Action: step.Title + ": started: " + action,
				Manual: step.Manual, Status: journal.StatusStarted, Started: res.Started.UTC(), Data: data})
		}
		if err := rec.Acting(step.Would); err != nil {
			res.Status, res.Err = journal.StatusFailed, err
			res.Data = map[string]string{journal.KeyVersion: st.Version}
			fmt.Fprintf(out, "    ❌ not started: %v\n", err)
			return res
		}
	}
	sctx := ctx
	if step.Timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeoutCause(ctx, step.Timeout, fmt.Errorf("%s: the step's deadline of %s passed", step.Label(), step.Timeout))
		defer cancel()
	}
	err := protect(func() error { return step.Run(sctx, st, rec) })
	if err != nil && sctx.Err() != nil && !strings.Contains(err.Error(), "deadline") && !strings.Contains(err.Error(), context.Cause(sctx).Error()) {
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
