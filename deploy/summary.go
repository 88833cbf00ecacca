package deploy

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

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
	RunDir  string // the run folder the journal is in ("" when none)
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
	rollback := journal.RollbackCommand(env, oc.Target.Confirm, oc.RunDir)
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
		monitor := "make monitor ENV=" + env
		if oc.RunDir != "" {
			monitor += " RUN=" + oc.RunDir
		}
		return monitor, "Phase 4 passed: the MONITORING PHASE (15:00, 4 hours) is next"
	case oc.Failed == nil:
		return "", ""
	case oc.Code == exitcode.Inconclusive:
		return rollback, "INCONCLUSIVE: a Phase 4 gate failed on the runbook's own side (" + firstLine(oc.Failed.Err.Error()) +
			"), which says nothing about the release and never triggers a rollback: a person decides. Check the runbook's host and its network and run the gates again, or, if the release is at fault, roll back with this command"
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

// passed says what a run that passed did: a deployment only when it rolled
// out (Phase 3); a gate on its own (make preflight, make smoke) deployed
// nothing and must not say so.
func (oc *Outcome) passed() string {
	var ids []string
	for _, s := range oc.Steps {
		if s.Step.Phase == journal.Phase3 {
			return oc.Version + " deployed to " + oc.Target.Env
		}
		ids = append(ids, s.Step.Label())
	}
	forVersion := ""
	if oc.Version != "" {
		forVersion = " for " + oc.Version
	}
	return strings.Join(ids, ", ") + " passed on " + oc.Target.Env + forVersion + "; this run deployed nothing"
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
		fmt.Fprintf(w, "\n✅ %d steps passed in %s: %s.\n", len(oc.Steps), short(oc.Duration), oc.passed())
	}
	if oc.Next != "" {
		fmt.Fprintf(w, "  next:    %s\n           (%s)\n", oc.Next, oc.NextWhy)
	}
	if runDir != "" {
		fmt.Fprintf(w, "  run folder: %s\n", runDir)
	}
	fmt.Fprintf(w, "  exit code %d (%s)\n", oc.Code, exitcode.Name(oc.Code))
}
