package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/rollback"
)

func init() {
	register(Command{Name: "rollback", Order: 20, Run: rollbackMain,
		Summary: "ROLLBACK PROCEDURE: previous images and the database from the verified backup, verified, smoke (make rollback)"})
}

// rbRunsRoot is where run folders are looked for when no --run-dir is
// given: runs/ under the module root.
func rbRunsRoot() string { return filepath.Join(moduleRoot(), "runs") }

// rollbackMain is `runbook rollback`: the ROLLBACK PROCEDURE for the
// deployment recorded in --run-dir (default: the newest deployment run,
// runs/<timestamp>-<env> whose journal records Step 1.1 done, printed with
// why it was chosen). Exit 0: rolled back and verified; 8:
// refused (no verified backup, no confirmation); 7: a step failed; 2: bad
// configuration.
func rollbackMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rollback", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	f.add(fs, false)
	fs.Lookup("run-dir").Usage = "the deployment's run folder (default $RUNBOOK_RUN_DIR, else the newest deployment run: runs/<timestamp>-<env> whose journal records Step 1.1 done)"
	skipDB := fs.Bool("skip-database", false, "leave the database as it is (the runbook's Step 3 \"If Needed\"): images only")
	reason := fs.String("reason", "", "why the rollback runs, for the team message and the journal")
	record := fs.String("record", "", "where to write the rollback record (default: staging.rollbackRecord on the staging cluster, else <run>/rollback.json)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: runbook rollback [--run-dir=runs/<timestamp>-<env>] [--confirm=<env>] [--dry-run] [--skip-database]\n\n"+
			"The runbook's ROLLBACK PROCEDURE (7 steps) for one deployment: notify, scale down, restore the database from\n"+
			"the verified backup named in the run's journal (into a new database, verified, then switched), set the previous\n"+
			"images, wait for the rollouts, run the smoke flows, notify. Exit codes: 0 done, 7 a step failed, 8 refused.\n\n")
		fs.PrintDefaults()
	}
	if ok, code := parse(fs, args); !ok {
		return code
	}
	tgt, code := loadTarget(ctx, stderr)
	if tgt == nil {
		return code
	}
	dir, named := f.runDir, f.runDir != ""
	if dir == "" {
		var why string
		var err error
		if dir, why, err = rollback.FindRunDir(rbRunsRoot(), tgt.Env); err != nil {
			fmt.Fprintf(stderr, "runbook rollback: %v\n", err)
			return rbCode(err)
		}
		fmt.Fprintf(stdout, "runbook rollback: no RUN given: %s; RUN=<folder> (--run-dir) to name another\n", why)
	}
	_, err := rollback.Run(ctx, tgt, rollback.Options{RunDir: dir, Confirm: f.confirm, Ask: f.ask, DryRun: f.dryRun, Out: stdout,
		SkipDatabase: *skipDB, Reason: *reason, RecordPath: *record})
	code = rbCode(err)
	if err != nil {
		fmt.Fprintf(stderr, "runbook rollback: %s (exit %d, %s)\n", tgt.Redact(err.Error()), code, exitcode.Name(code))
	}
	if !f.dryRun {
		rbRecordExit(dir, "rollback", named, code, stderr)
	}
	return code
}

// rbRecordExit writes code to <dir>/<name>.exitcode and, when the run
// folder was named on the command line (--run-dir, as CI does after `make
// rollback RUN_DIR=...`), to <dir>/exitcode too: GNU make exits 2 whatever
// the recipe's code, so CI reads it there. A folder found by itself keeps
// the exitcode its deployment wrote.
func rbRecordExit(dir, name string, named bool, code int, stderr io.Writer) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return
	}
	files := []string{name + ".exitcode"}
	if named {
		files = append(files, "exitcode")
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(strconv.Itoa(code)+"\n"), 0o644); err != nil {
			fmt.Fprintf(stderr, "runbook: exit code not recorded: %v\n", err)
		}
	}
}

// rbCode is the exit code an error carries (exitcode.Wrap); 0 for nil,
// Internal for an error without one.
func rbCode(err error) int {
	if err == nil {
		return exitcode.OK
	}
	var ec *exitcode.Error
	if errors.As(err, &ec) {
		return ec.Code
	}
	return exitcode.Internal
}

func rbTruthy(s string) bool { return s == "1" || s == "true" || s == "yes" }
