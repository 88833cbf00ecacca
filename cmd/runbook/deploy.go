package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/report"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/rollback"
	"github.com/granter/runbook/smoke"
)

func init() {
	register(Command{Name: "deploy", Order: 1, Summary: "the whole deployment: preflight gate, Phases 1-4, stop at the first failure (make deploy)", Run: deployMain})
}

// deployMain is `make deploy`: the preflight checklist, Phases 1-3, Step
// 4.1 (the five smoke flows) and Steps 4.2-4.5 (the postdeploy checks),
// into one run folder, then the go-live report. The gates run in this
// process, as the same library code their go test packages run, and write
// the same evidence (preflight.json, smoke.json, postdeploy.json, their
// .junit.xml, checklist.txt): nothing is compiled at deploy time.
func deployMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	f.add(fs, true)
	preflightTimeout := fs.Duration("preflight-timeout", 90*time.Minute, "deadline of the preflight gate")
	noReport := fs.Bool("no-report", false, "do not write the go-live report at the end")
	auto := fs.Bool("auto-rollback", rbTruthy(os.Getenv("AUTO_ROLLBACK")), "when a Phase 4 gate fails and the runbook's rule fires (> 1% errors or a core flow broken), run the rollback (env AUTO_ROLLBACK=1); else print its command")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	tgt, code := loadTarget(ctx, stderr)
	if tgt == nil {
		return code
	}
	f.holdVersion(tgt)
	if err := deploy.Validate(tgt, f.version); err != nil {
		fmt.Fprintf(stderr, "runbook deploy: %v\n", err)
		return exitcode.Config
	}
	if !f.dryRun {
		if err := deploy.Reachable(tgt); err != nil {
			fmt.Fprintf(stderr, "runbook deploy: %v\n", err)
			return exitcode.Config
		}
	}
	steps := deploy.Plan(tgt, f.version, gates(tgt, *preflightTimeout))
	j, history, err := openRun(tgt, &f)
	if err != nil {
		fmt.Fprintf(stderr, "runbook deploy: %v\n", err)
		return exitcode.Internal
	}
	oc := deploy.Run(ctx, tgt, f.version, steps, deploy.Options{Out: stdout, Journal: j, RunDir: f.runDir,
		DryRun: f.dryRun, Confirm: f.confirm, Ask: f.ask, History: history})
	oc.WriteSummary(stdout, f.runDir)
	code = oc.Code
	if !f.dryRun && oc.Failed != nil && oc.Failed.Step.Phase == journal.Phase4 {
		code = deployRollback(ctx, tgt, oc.Code, *auto, rollback.Options{RunDir: f.runDir, Journal: j, Confirm: f.confirm, Ask: f.ask, Out: stdout}, stdout, stderr)
	}
	if err := j.Close(); err != nil {
		fmt.Fprintf(stderr, "runbook deploy: journal: %v\n", err)
	}
	// CI reads this file (make exits 2 whatever failed): a stale one from an
	// earlier command must never stand for this run.
	if err := os.WriteFile(filepath.Join(f.runDir, "exitcode"), fmt.Appendf(nil, "%d\n", code), 0o644); err != nil {
		fmt.Fprintf(stderr, "runbook deploy: exit code %d not recorded in the run folder: %v\n", code, err)
		if code == exitcode.OK {
			code = exitcode.Internal
		}
	}
	if !f.dryRun && !*noReport && oc.Refused == nil {
		fmt.Fprintf(stdout, "\n━━ Go-live report (SUCCESS CRITERIA) ━━\n")
		rc := report.MainWith([]string{f.runDir}, stdout, stderr, tgt.Redact)
		if oc.Code == exitcode.OK && rc != exitcode.OK {
			fmt.Fprintf(stdout, "(the deployment's gates passed; the report's verdict waits for the evidence still to come, such as the 4-hour watch)\n")
		}
	}
	return code
}

// gates are the binary's preflight and Phase 4 gates, in this process.
func gates(tgt *target.Target, preflightTimeout time.Duration) deploy.Gates {
	return deploy.Gates{
		Preflight: []deploy.Step{deploy.PreflightGate(tgt.Env, preflightTimeout, deploy.PreflightItems)},
		Phase4:    phase4Steps(tgt),
	}
}

// phase4Steps are Steps 4.1-4.5 in this process (deploy.InProcessPhase4).
func phase4Steps(tgt *target.Target) []deploy.Step {
	return deploy.InProcessPhase4(tgt, smoke.Options{AIProviderOutage: suite.AIProviderOutageOf(tgt)})
}

// deployRollback is AUTO_ROLLBACK for a deployment stopped by a Phase 4
// gate: the rollback rule applied to the run's journal, then the rollback
// (auto) or its exact command. The exit code stays the deployment's
// failure (code) unless the rollback ran and failed: exitcode.Rollback.
func deployRollback(ctx context.Context, tgt *target.Target, code int, auto bool, opts rollback.Options, stdout, stderr io.Writer) int {
	mode := "AUTO_ROLLBACK off: the command is printed"
	if auto {
		mode = "AUTO_ROLLBACK=1: the rollback runs when the rule fires"
	}
	fmt.Fprintf(stdout, "\n━━ Rollback rule (a Phase 4 gate failed; %s) ━━\n", mode)
	d, ran, err := rollback.AfterDeploy(ctx, tgt, auto, opts)
	switch {
	case ran && err != nil:
		fmt.Fprintf(stderr, "runbook deploy: the automatic rollback FAILED: %s (exit %d, %s)\n", tgt.Redact(err.Error()), exitcode.Rollback, exitcode.Name(exitcode.Rollback))
		return exitcode.Rollback
	case ran:
		fmt.Fprintf(stdout, "✅ ROLLBACK COMPLETE: the deployment failed its Phase 4 gate and was rolled back (images, database, smoke verified); exit %d (%s) is the deployment's failure\n", code, exitcode.Name(code))
	case err != nil:
		// The journal could not be read: the rule was not applied.
		fmt.Fprintf(stderr, "runbook deploy: the rollback rule could not be applied: %s; decide by hand: %s\n", tgt.Redact(err.Error()), rollback.Command(tgt, opts.RunDir))
	case !d.Rollback:
		fmt.Fprintf(stdout, "runbook deploy: the rule did not call for a rollback: fix forward or decide with the tech lead (%s)\n", rollback.Command(tgt, opts.RunDir))
	}
	return code
}
