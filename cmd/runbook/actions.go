package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/rollback/runfolder"
)

// The single actions of Phases 1-3. Each runs its steps of the plan with
// the same printing, confirmation, dry run and journal as `deploy`.
func init() {
	register(Command{Name: "backup", Order: 2, Summary: "Step 1.1: final database backup (custom format, sha256, verified by restore)",
		Run: action("backup", false, nil, func(tgt *target.Target, version string) []deploy.Step {
			return deploy.Select(deploy.Phase1(tgt, version), "1.1")
		})})
	register(Command{Name: "notify", Order: 3, Summary: "Step 1.2: tell the team channel the deployment starts (webhook)",
		Run: action("notify", true, nil, func(tgt *target.Target, version string) []deploy.Step {
			return deploy.Select(deploy.Phase1(tgt, version), "1.2")
		})})
	register(Command{Name: "drain", Order: 4, Summary: "Steps 1.3-1.4: scale backend-core to 0, wait for its pods, no session left",
		Run: action("drain", false, nil, func(tgt *target.Target, version string) []deploy.Step {
			return deploy.Select(deploy.Phase1(tgt, version), "1.3", "1.4")
		})})
	register(Command{Name: "migrate", Order: 5, Summary: "Steps 2.1-2.3: run the pending migrations, verify them, database health",
		Run: action("migrate", false, nil, func(tgt *target.Target, _ string) []deploy.Step {
			return deploy.Phase2(tgt)
		})})
	var service string
	register(Command{Name: "rollout", Order: 6, Summary: "Phase 3: set image, wait for the rollout (5m), health; every service in order, or --service",
		Run: action("rollout", true,
			func(fs *flag.FlagSet) {
				fs.StringVar(&service, "service", "", "only this service (backend-core, data-service, web-frontend)")
			},
			func(tgt *target.Target, version string) []deploy.Step {
				if service != "" {
					return deploy.Phase3(tgt, version, service)
				}
				return deploy.Phase3(tgt, version)
			})})
}

// action makes the Run of a single action: flags, when not nil, declares
// its own flags; plan gives its steps.
func action(name string, needVersion bool, flags func(*flag.FlagSet), plan func(tgt *target.Target, version string) []deploy.Step) func(context.Context, []string, io.Writer, io.Writer) int {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		tgt, f, code := prologue(ctx, name, args, flags, stderr)
		if tgt == nil {
			return code
		}
		if needVersion {
			if err := deploy.Validate(tgt, f.version); err != nil {
				fmt.Fprintf(stderr, "runbook %s: %v\n", name, err)
				return exitcode.Config
			}
		}
		steps := plan(tgt, f.version)
		if len(steps) == 0 {
			fmt.Fprintf(stderr, "runbook %s: nothing to run (a --service the target does not list? it lists %s)\n", name, serviceNames(tgt))
			return exitcode.Config
		}
		return runSteps(ctx, tgt, f, steps, stdout, stderr)
	}
}

// runSteps runs steps with the journal of the run folder and prints the
// summary; it returns the outcome's exit code.
func runSteps(ctx context.Context, tgt *target.Target, f runFlags, steps []deploy.Step, stdout, stderr io.Writer) int {
	j, history, err := openRun(tgt, &f)
	if err != nil {
		fmt.Fprintf(stderr, "runbook: %v\n", err)
		return exitcode.Internal
	}
	defer j.Close()
	if err := backupFirst(tgt, f, steps, history); err != nil {
		fmt.Fprintf(stdout, "\n⛔ REFUSED (exit %d, %s): %s\n", exitcode.Refused, exitcode.Name(exitcode.Refused), tgt.Redact(err.Error()))
		if jerr := j.Add(journal.Entry{Phase: steps[0].Phase, Step: steps[0].ID, Action: "refused: no verified backup in the run", Status: journal.StatusFailed,
			Error: err.Error(), Data: map[string]string{journal.KeyClass: exitcode.Class(exitcode.Refused), journal.KeyVersion: f.version}}); jerr != nil {
			fmt.Fprintf(stderr, "runbook: journal: %v\n", jerr)
		}
		return exitcode.Refused
	}
	oc := deploy.Run(ctx, tgt, f.version, steps, deploy.Options{Out: stdout, Journal: j, RunDir: f.runDir,
		DryRun: f.dryRun, Confirm: f.confirm, Ask: f.ask, History: history})
	oc.WriteSummary(stdout, f.runDir)
	return oc.Code
}

// backupFirst refuses the steps that change the database or the images
// (Phases 2 and 3: `runbook migrate`, `runbook rollout`) when the run
// folder holds no verified backup from Step 1.1 (runfolder.VerifiedBackup):
// the rollback of the run would have nothing to restore. A dry run, and a
// run the confirmation refuses anyway (deploy.Run says so first), are not
// checked.
func backupFirst(tgt *target.Target, f runFlags, steps []deploy.Step, history []journal.Entry) error {
	if f.dryRun || deploy.CheckConfirm(tgt, f.confirm, steps) != nil {
		return nil
	}
	var changing []string
	for _, s := range steps {
		if s.Phase != journal.Phase2 && s.Phase != journal.Phase3 {
			continue
		}
		if title := journal.WindowOf(s.Phase).Title; !slices.Contains(changing, title) {
			changing = append(changing, title)
		}
	}
	if len(changing) == 0 {
		return nil
	}
	what := strings.Join(changing, " and ")
	if tgt.Database == nil || tgt.Database.Name == "" {
		return fmt.Errorf("%s needs a verified backup in the run, and the target names no database (database.name in %s)", what, tgt.File)
	}
	if _, _, err := runfolder.VerifiedBackup(f.runDir, history, tgt.Backup.Dir, tgt.Database.Name); err != nil {
		return fmt.Errorf("%s changes %s and needs a verified backup in the run (the rollback restores it): %v; take and verify it into this run folder first (runbook backup --run-dir=%s, Step 1.1), then run this again with the same --run-dir",
			what, tgt.Env, err, f.runDir)
	}
	return nil
}

func serviceNames(tgt *target.Target) string {
	var n []string
	for _, s := range tgt.Services {
		n = append(n, s.Name)
	}
	return strings.Join(n, ", ")
}

// prologue is what every step command does first: its flags (the run
// flags, then flags's own) parsed, the target loaded, the version
// defaulted from it. A nil target means stop with the code.
func prologue(ctx context.Context, name string, args []string, flags func(*flag.FlagSet), stderr io.Writer) (*target.Target, runFlags, int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	f.add(fs, true)
	if flags != nil {
		flags(fs)
	}
	if ok, code := parse(fs, args); !ok {
		return nil, f, code
	}
	tgt, code := loadTarget(ctx, stderr)
	if tgt == nil {
		return nil, f, code
	}
	f.holdVersion(tgt)
	return tgt, f, exitcode.OK
}
