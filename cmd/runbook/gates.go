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
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
)

// The gates on their own, in this process, into a run folder (make
// preflight, make smoke, make postdeploy): the same steps make deploy
// runs, writing the same evidence files, and <run folder>/exitcode.
func init() {
	var preflightTimeout time.Duration
	register(Command{Name: "preflight", Order: -1, Summary: "the pre-deployment checklist: the 8 items into a run folder, checklist.txt; exit 3 on a blocker (make preflight)",
		Run: gateCommand("preflight",
			func(fs *flag.FlagSet) {
				fs.DurationVar(&preflightTimeout, "timeout", 90*time.Minute, "deadline of the checklist")
			},
			func(tgt *target.Target) []deploy.Step {
				return []deploy.Step{deploy.PreflightGate(tgt.Env, preflightTimeout, deploy.PreflightItems)}
			})})
	register(Command{Name: "smoke", Order: 7, Summary: "Step 4.1: the five smoke flows, into <run folder>/smoke.json (make smoke)",
		Run: gateCommand("smoke", nil, func(tgt *target.Target) []deploy.Step {
			return deploy.Select(phase4Steps(tgt), phase4.SmokeStep)
		})})
	register(Command{Name: "postdeploy", Order: 8, Summary: "Steps 4.2-4.5: logs, health, spot checks, error rate, alerts, into <run folder>/postdeploy.json (make postdeploy)",
		Run: gateCommand("postdeploy", nil, func(tgt *target.Target) []deploy.Step {
			var steps []deploy.Step
			for _, s := range phase4Steps(tgt) {
				if s.ID != phase4.SmokeStep {
					steps = append(steps, s)
				}
			}
			return steps
		})})
}

// gateCommand runs a gate's steps with the run folder's journal, like an
// action, and records the exit code in <run folder>/exitcode (make's own
// code is 2 whatever failed; CI reads the file).
func gateCommand(name string, flags func(*flag.FlagSet), plan func(*target.Target) []deploy.Step) func(context.Context, []string, io.Writer, io.Writer) int {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		tgt, f, code := prologue(ctx, name, args, flags, stderr)
		if tgt == nil {
			return code
		}
		if f.runDir == "" {
			f.runDir = defaultRunDir(tgt.Env)
		}
		if abs, err := filepath.Abs(f.runDir); err == nil {
			f.runDir = abs
		}
		code = runSteps(ctx, tgt, f, plan(tgt), stdout, stderr)
		if f.dryRun {
			return code
		}
		if err := os.WriteFile(filepath.Join(f.runDir, "exitcode"), fmt.Appendf(nil, "%d\n", code), 0o644); err != nil {
			fmt.Fprintf(stderr, "runbook %s: exit code %d not recorded in the run folder: %v\n", name, code, err)
			if code == exitcode.OK {
				code = exitcode.Internal
			}
		}
		fmt.Fprintf(stdout, "run folder: %s\n", f.runDir)
		return code
	}
}
