package rollback

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/monitor"
	"github.com/granter/runbook/rollback/runfolder"
)

// Command is the exact command that rolls back the deployment recorded in
// runDir on tgt, as the deploy and the watch print it when the rollback
// rule fires and AUTO_ROLLBACK is off.
func Command(tgt *target.Target, runDir string) string {
	return journal.RollbackCommand(tgt.Env, tgt.Confirm, runDir)
}

// OnTrigger is what the deploy (after the postdeploy gate) and the watch
// do when they have seen a problem: when the rollback rule did not fire,
// nothing (it returns false). When it fired: with auto (AUTO_ROLLBACK=1)
// it runs the rollback of opts.RunDir and returns true with Run's error;
// without, it prints the rule and the exact command to run, and returns
// false.
func OnTrigger(ctx context.Context, tgt *target.Target, d monitor.Decision, auto bool, opts Options) (ran bool, err error) {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	if !d.Rollback {
		return false, nil
	}
	if !auto {
		fmt.Fprintf(out, "runbook: %s\nrunbook: ROLLBACK PROCEDURE: run now:\n    %s\n", d.Reason, Command(tgt, opts.RunDir))
		return false, nil
	}
	fmt.Fprintf(out, "runbook: %s\nrunbook: AUTO_ROLLBACK=1: starting the rollback\n", d.Reason)
	if opts.Reason == "" {
		opts.Reason = d.Reason
	}
	_, err = Run(ctx, tgt, opts)
	return true, err
}

// FindRunDir returns the run folder a rollback without RUN undoes: the
// newest deployment run of env under root (runs/<timestamp>-<env> whose
// journal records Phase 1 Step 1.1, the Final Database Backup, done;
// never a `make preflight` folder nor one holding only a rollback), and
// why it was chosen: the folder, when the deployment started, the release,
// the backup, and the newer folders passed over. None: a refusal naming
// the folders looked at.
func FindRunDir(root, env string) (dir, reason string, err error) {
	c, err := runfolder.Newest(root, env)
	if err != nil {
		return "", "", refuse("%v: name the deployment's run folder with RUN= (--run-dir)", err)
	}
	return c.Dir, c.Reason(), nil
}

// DefaultRecordPath is where a rollback on tgt writes its
// checklist.RollbackRecord for checklist item 6: the staging record
// (staging.rollbackRecord) when tgt is the cluster that section describes
// (kube.context equal to staging.kubeContext), so a rollback rehearsed on
// staging proves "Rollback tested (on staging)" for the production
// deployment of the same version; else the run folder's rollback.json.
func DefaultRecordPath(tgt *target.Target, runDir, version string) string {
	if tgt.Staging.RollbackRecord != "" && tgt.IsStaging() && version != "" {
		return tgt.Staging.RollbackRecordFor(version)
	}
	return filepath.Join(runDir, "rollback.json")
}

// DecideFromJournal applies the rollback rule to what Phase 4 journaled in
// a run, all of its evidence:
//   - core functionality broken: a failed Step 4.1 names the broken flows
//     (Data smoke.flows, "auth failed, search flaky, ..."; failed means
//     failed again on an immediate retry, flaky that the retry passed,
//     which is the error rate's to judge), and a failed core check (Steps
//     4.3, 4.4: phase4.Check.Core) that failed again on its immediate
//     retry records journal.KeyCoreBroken;
//   - the newest Phase 4 error-rate counts (error_rate.errors of
//     error_rate.requests; a ratio alone cannot be decided from a bound, so
//     it is "not measured") decide the error-rate half.
//
// A Phase 4 gate that failed on the runbook's side (journal.KeyInconclusive,
// or a Step 4.1 without any flow verdict, or a core check without a retry
// verdict) never triggers a rollback: it is listed in
// Decision.Inconclusive, and the reason says INCONCLUSIVE and that a
// person decides. It is what the deploy applies after Phase 4:
// monitor.Decide on the journal's evidence.
func DecideFromJournal(entries []journal.Entry, th target.Thresholds) monitor.Decision {
	errs, reqs := math.NaN(), math.NaN()
	core := map[string]string{}
	for _, c := range phase4.Checks {
		if c.Core {
			core[c.Step] = c.Title
		}
	}
	var broken, unknown []string
	for _, e := range entries {
		if e.Phase != journal.Phase4 {
			continue
		}
		if x, n, ok := journal.RateCounts(e.Data); ok {
			errs, reqs = x, n
		}
		if e.Status != journal.StatusFailed {
			continue
		}
		if why := e.Data[journal.KeyInconclusive]; why != "" {
			unknown = append(unknown, "Step "+e.Step+" failed on the runbook's side ("+firstLine(why)+")")
			continue
		}
		switch title, isCore := core[e.Step]; {
		case e.Step == phase4.SmokeStep:
			flows := failedFlows(e.Data[journal.KeySmokeFlows])
			if len(flows) == 0 {
				// No flow ran to a verdict: the gate failed on the
				// runbook's side (toolchain, its own network, Ctrl-C),
				// which says nothing about the release.
				unknown = append(unknown, "Step 4.1 failed without a flow verdict ("+firstLine(e.Error)+")")
			}
			broken = append(broken, flows...)
		case isCore && e.Data[journal.KeyCoreBroken] != "":
			broken = append(broken, "Step "+e.Step+" "+firstLine(e.Data[journal.KeyCoreBroken]))
		case isCore:
			unknown = append(unknown, "Step "+e.Step+" "+title+" failed without a retry verdict ("+firstLine(e.Error)+")")
		}
	}
	d := monitor.Decide(errs, reqs, broken, th)
	if !d.Rollback && len(unknown) > 0 {
		d.Inconclusive = unknown
		d.Reason += "; INCONCLUSIVE: " + strings.Join(unknown, "; ") + ": a failure on the runbook's side never triggers a rollback, a person decides"
	}
	return d
}

// failedFlows reads "auth failed, Search passed, ..." (in-process and go
// test gates write it so).
func failedFlows(list string) []string {
	var out []string
	for _, part := range strings.Split(list, ",") {
		f := strings.Fields(part)
		if len(f) == 2 && strings.HasPrefix(strings.ToLower(f[1]), "fail") {
			out = append(out, strings.ToLower(f[0]))
		}
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// AfterDeploy is AUTO_ROLLBACK for `make deploy`: called when the
// deployment stopped at a Phase 4 gate, it reads the run's journal,
// applies the rule (DecideFromJournal) and, through OnTrigger, runs the
// rollback (auto) or prints its exact command. opts.RunDir is the run
// folder; opts.Journal may be the deploy's open journal.
func AfterDeploy(ctx context.Context, tgt *target.Target, auto bool, opts Options) (monitor.Decision, bool, error) {
	entries, err := journal.Read(opts.RunDir)
	if err != nil {
		return monitor.Decision{}, false, err
	}
	d := DecideFromJournal(entries, tgt.Thresholds)
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	if !d.Rollback {
		fmt.Fprintf(out, "runbook: %s\n", d.Reason)
		if len(d.Inconclusive) > 0 {
			fmt.Fprintf(out, "runbook: INCONCLUSIVE (exit %d): the runbook could not judge the release; a person decides. Check the runbook's host and network and run the gates again, or roll back:\n    %s\n",
				exitcode.Inconclusive, Command(tgt, opts.RunDir))
		}
		return d, false, nil
	}
	ran, err := OnTrigger(ctx, tgt, d, auto, opts)
	return d, ran, err
}
