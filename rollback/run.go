package rollback

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/confirm"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/notify"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke"
)

// NotifyTimeout bounds one team message.
const NotifyTimeout = 10 * time.Second

// RestoreTimeout bounds Step 3 (pgbackup.Restore: pg_restore into a new
// database, the comparison with the manifest, the switch), so a hung
// pg_restore cannot hang the rollback.
const RestoreTimeout = 30 * time.Minute

// KubeCallTimeout bounds the Kubernetes API calls of Steps 2 and 4 (scale,
// set image); the waits keep their own timeout (RolloutTimeout).
const KubeCallTimeout = time.Minute

// Options are a rollback's settings; RunDir is required.
type Options struct {
	// RunDir is the deployment's run folder: its journal says what to
	// restore, and the rollback appends its own entries there (phase
	// "rollback").
	RunDir string
	// Journal, when the caller already has RunDir's journal open (the
	// deploy CLI with AUTO_ROLLBACK), is used instead of opening it again.
	Journal *journal.Journal
	// Confirm is the word given on the command line (--confirm=<word>,
	// which make passes for a CONFIRM=<word> on its command line); it must
	// equal the target's confirm setting when it has one.
	Confirm string
	// Ask, when not nil, lets a person at a terminal confirm by typing the
	// environment and the version rolled back ("prod v2.0.0").
	Ask confirm.Prompt
	// DryRun prints the plan with the manual command of every step and
	// changes nothing (no journal entry, no message).
	DryRun bool
	// Out receives the plan, a line per step and the progress of the long
	// ones (default: nowhere).
	Out io.Writer
	// SkipDatabase leaves Step 3 out ("Rollback Database (If Needed)"):
	// the database stays as it is. Default: restored.
	SkipDatabase bool
	// Smoke are what Step 6's flows may use beyond the endpoints (the AI
	// provider outage switch, locally).
	Smoke smoke.Options
	// Reason is why the rollback runs ("watch round 3: error rate 4.9% >
	// 1%"); it goes into the team message and the journal.
	Reason string
	// RecordPath receives the checklist.RollbackRecord of this run
	// (checklist item 6 reads the staging one); default DefaultRecordPath.
	RecordPath string
}

// StepResult is one step of a run.
type StepResult struct {
	N        int
	Name     string // notify, scale-down, restore, set-image, rollout, smoke
	Title    string
	Started  time.Time
	Duration time.Duration
	Status   string // journal.StatusOK, StatusFailed, StatusSkipped
	Err      error
}

// Result is what a rollback did and how long each step took.
type Result struct {
	Plan     *Plan
	Steps    []StepResult
	Started  time.Time
	Total    time.Duration
	Budget   time.Duration // thresholds.rollbackBudget (the runbook's 15 minutes)
	Restored *pgbackup.Restored
	Smoke    []flow.Result
	Warnings []string
}

// Step returns the result of the named step (the last one of that name).
func (r Result) Step(name string) (StepResult, bool) {
	for i := len(r.Steps) - 1; i >= 0; i-- {
		if r.Steps[i].Name == name {
			return r.Steps[i], true
		}
	}
	return StepResult{}, false
}

// Confirmed says why a destructive step may not run on tgt with the word
// given on the command line: nil when the target needs no confirmation or
// word matches. CONFIRM exported in the environment is not enough
// (confirm.Env).
func Confirmed(tgt *target.Target, word string) error {
	return confirmed(tgt, confirm.Confirmation{Given: word}, "")
}

func confirmed(tgt *target.Target, c confirm.Confirmation, version string) error {
	return c.Check(tgt, version, "rolling back "+tgt.Env+" (replacing its database and its images)")
}

// DryRun is the rollback as a plan only, for checklist item 6 ("Rollback
// scripts prepared", "Previous version identified"): it reads the journal
// of runDir (or, before any deployment, the current state: the images
// running now, the newest verified backup), the backup's manifest and file,
// and the Deployments, prints the plan with each step's manual command to
// standard output and changes nothing. The error is an *exitcode.Refusal when
// no rollback would be possible.
func DryRun(ctx context.Context, tgt *target.Target, runDir string) error {
	p, err := plan(ctx, tgt, runDir, false)
	if err != nil {
		return err
	}
	p.Write(os.Stdout)
	return nil
}

// Run is the ROLLBACK PROCEDURE, Steps 1 to 7, for the deployment recorded
// in opts.RunDir. It refuses, before changing anything, without a verified
// backup named by the journal, or without the confirmation the target
// asks for. Each step is printed, timed and journaled; the first step that
// fails stops the rollback (exit code Rollback), says so to the team and
// prints how to recover by hand. Team messages that fail do not stop it:
// they are reported as warnings (tell the team by other means).
func Run(ctx context.Context, tgt *target.Target, opts Options) (Result, error) {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	if opts.RunDir == "" {
		return Result{}, refuse("no run folder: name the deployment's (RUN=runs/<timestamp>-%s)", tgt.Env)
	}
	p, err := PlanFor(ctx, tgt, opts.RunDir)
	if err != nil {
		fmt.Fprintf(out, "%v\n", err)
		return Result{}, err
	}
	p.Write(out)
	if opts.DryRun {
		fmt.Fprintln(out, "rollback: dry run: nothing was changed")
		return Result{Plan: p}, nil
	}
	if err := confirmed(tgt, confirm.Confirmation{Given: opts.Confirm, Ask: opts.Ask}, p.From); err != nil {
		fmt.Fprintf(out, "%v\n", err)
		return Result{Plan: p}, err
	}
	if opts.RecordPath == "" {
		opts.RecordPath = DefaultRecordPath(tgt, opts.RunDir, p.From)
	}
	cs, err := kube.NewClientset(tgt.Kube.Kubeconfig, tgt.Kube.Context)
	if err != nil {
		return Result{Plan: p}, exitcode.Wrap(exitcode.Rollback, err)
	}
	j := opts.Journal
	if j == nil {
		if j, err = journal.Open(opts.RunDir, filepath.Base(opts.RunDir), tgt.Env, tgt.Redact); err != nil {
			return Result{Plan: p}, exitcode.Wrap(exitcode.Rollback, err)
		}
		defer j.Close()
	}
	r := &runner{tgt: tgt, opts: opts, plan: p, cs: cs, j: j, out: out,
		res: Result{Plan: p, Started: time.Now(), Budget: tgt.Thresholds.RollbackBudget}}
	if tgt.Webhook != nil && !tgt.Webhook.URL.IsZero() {
		r.team = notify.New(tgt.Webhook.URL.Reveal(), tgt.Webhook.Channel, NotifyTimeout)
	}
	err = r.run(ctx)
	r.res.Total = time.Since(r.res.Started)
	r.summary(err)
	r.record(err)
	if err != nil {
		return r.res, exitcode.Wrap(exitcode.Rollback, err)
	}
	return r.res, nil
}

type runner struct {
	tgt  *target.Target
	opts Options
	plan *Plan
	cs   kubernetes.Interface
	j    *journal.Journal
	team *notify.Client
	out  io.Writer
	res  Result
}

func (r *runner) run(ctx context.Context) error {
	p := r.plan
	steps := p.Steps()
	why := ""
	if r.opts.Reason != "" {
		why = " — " + r.opts.Reason
	}
	r.message(ctx, steps[0], fmt.Sprintf("ROLLBACK IN PROGRESS — %s: %s -> %s%s", r.tgt.Env, orDash(p.From), orDash(p.To), why))

	if err := r.step(ctx, steps[1], r.scaleDown); err != nil {
		return err
	}
	restore := r.restore
	if r.opts.SkipDatabase {
		restore = nil
	}
	if err := r.step(ctx, steps[2], restore); err != nil {
		return err
	}
	if err := r.step(ctx, steps[3], r.setImages); err != nil {
		return err
	}
	if err := r.step(ctx, steps[4], r.rollout); err != nil {
		return err
	}
	if err := r.step(ctx, steps[5], r.smoke); err != nil {
		return err
	}
	r.message(ctx, steps[6], fmt.Sprintf("ROLLBACK COMPLETE - System stable on %s. Escalate for post-mortem analysis.", p.To))
	return nil
}

// stepFunc does one step and returns the journal entries that describe it
// (one per deployment, or one); the runner times and records them.
type stepFunc func(ctx context.Context) ([]map[string]string, error)

// timeout is the deadline of a planned step; 0 for the steps whose waits
// already have theirs (rollout, smoke) and for the messages.
func (r *runner) timeout(s PlannedStep) time.Duration {
	switch s.Name {
	case "scale-down":
		return KubeCallTimeout + r.tgt.Thresholds.RolloutTimeout
	case "restore":
		return RestoreTimeout
	case "set-image":
		return KubeCallTimeout
	}
	return 0
}

// step runs one step: prints it, times it, journals it. A nil fn is a
// step left out (skipped, journaled as such).
func (r *runner) step(ctx context.Context, s PlannedStep, fn stepFunc) error {
	res := StepResult{N: s.N, Name: s.Name, Title: s.Title, Started: time.Now()}
	fmt.Fprintf(r.out, "rollback: Step %d: %s…\n", s.N, s.Title)
	var data []map[string]string
	var err error
	if fn == nil {
		res.Status = journal.StatusSkipped
		err = nil
	} else {
		sctx := ctx
		if t := r.timeout(s); t > 0 {
			var cancel context.CancelFunc
			sctx, cancel = context.WithTimeoutCause(ctx, t, fmt.Errorf("Step %d (%s): the step's deadline of %s passed", s.N, s.Name, t))
			defer cancel()
		}
		r.started(s, strings.Join(s.What, "; "))
		data, err = fn(sctx)
		if err != nil && sctx.Err() != nil && !strings.Contains(err.Error(), "deadline") {
			err = fmt.Errorf("%w (%v)", err, context.Cause(sctx))
		}
		res.Status = journal.StatusOK
		if err != nil {
			res.Status, res.Err = journal.StatusFailed, err
		}
	}
	res.Duration = time.Since(res.Started)
	r.res.Steps = append(r.res.Steps, res)
	if len(data) == 0 {
		data = []map[string]string{{}}
	}
	for _, d := range data {
		e := journal.Entry{Phase: Phase, Step: strconv.Itoa(s.N), Action: s.Title + " (" + s.Name + ")",
			Manual: strings.Join(s.Manual, "; "), Status: res.Status, Started: res.Started, Duration: res.Duration, Data: d}
		if d[journal.KeyDeployment] != "" {
			e.Action += ": " + d[journal.KeyDeployment]
		}
		if fn == nil {
			e.Error = "left out: --skip-database (the runbook's \"If Needed\")"
		}
		if err != nil {
			e.Error = err.Error()
			d[journal.KeyClass] = exitcode.Class(exitcode.Rollback)
		}
		r.journal(e)
	}
	switch {
	case err != nil:
		fmt.Fprintf(r.out, "rollback: Step %d: %s FAILED after %s: %v\n", s.N, s.Title, res.Duration.Round(time.Millisecond), r.tgt.Redact(err.Error()))
		return fmt.Errorf("Step %d (%s): %w", s.N, s.Title, err)
	case fn == nil:
		fmt.Fprintf(r.out, "rollback: Step %d: %s skipped (--skip-database)\n", s.N, s.Title)
	default:
		fmt.Fprintf(r.out, "rollback: Step %d: %s done in %s\n", s.N, s.Title, res.Duration.Round(time.Millisecond))
	}
	return nil
}

// started journals that step s is about to act (what it will do), before
// it does: a rollback killed in the middle of a step leaves that line, and
// the next rollback and the report know the step may have happened.
func (r *runner) started(s PlannedStep, what string) {
	r.journal(journal.Entry{Phase: Phase, Step: strconv.Itoa(s.N), Action: s.Title + " (" + s.Name + "): started: " + what,
		Manual: strings.Join(s.Manual, "; "), Status: journal.StatusStarted, Started: time.Now(),
		Data: map[string]string{}})
}

func (r *runner) journal(e journal.Entry) {
	if err := r.j.Add(e); err != nil {
		r.warn("journal: %v", err)
	}
}

func (r *runner) warn(format string, args ...any) {
	w := r.tgt.Redact(fmt.Sprintf(format, args...))
	r.res.Warnings = append(r.res.Warnings, w)
	fmt.Fprintf(r.out, "rollback: WARNING: %s\n", w)
}
