package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/granter/runbook/internal/deploy"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/report"
)

// Gate deadlines (go test -timeout).
const (
	smokeTimeout      = 15 * time.Minute
	postdeployTimeout = 15 * time.Minute
)

func init() {
	register(Command{Name: "deploy", Order: 1, Summary: "the whole deployment: preflight gate, Phases 1-4, stop at the first failure (make deploy)", Run: deployMain})
}

// deployMain is `make deploy`: the preflight checklist (go test
// ./preflight), Phases 1-3, Step 4.1 (go test ./smoke) and Steps 4.2-4.5
// (go test ./postdeploy), into one run folder, then the go-live report.
func deployMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	f.add(fs, true)
	preflightTimeout := fs.Duration("preflight-timeout", 90*time.Minute, "deadline of the preflight gate")
	noReport := fs.Bool("no-report", false, "do not write the go-live report at the end")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	tgt, code := loadTarget(stderr)
	if tgt == nil {
		return code
	}
	if f.version == "" {
		f.version = tgt.Version
	}
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
	root := moduleRoot()
	gate := func(name, pkg string, timeout time.Duration) deploy.GoTest {
		return deploy.GoTest{Name: name, Pkg: pkg, Tags: buildTag(), Timeout: timeout, Dir: root}
	}
	steps := deploy.Plan(tgt, f.version, deploy.Gates{
		Preflight: []deploy.Step{deploy.PreflightGate(gate("preflight", "./preflight", *preflightTimeout), tgt.Env)},
		Phase4: []deploy.Step{
			deploy.SmokeGate(gate("smoke", "./smoke", smokeTimeout)),
			deploy.PostdeployGate(gate("postdeploy", "./postdeploy", postdeployTimeout)),
		},
	})
	j, history, err := openRun(tgt, &f)
	if err != nil {
		fmt.Fprintf(stderr, "runbook deploy: %v\n", err)
		return exitcode.Internal
	}
	oc := deploy.Run(ctx, tgt, f.version, steps, deploy.Options{Out: stdout, Journal: j, RunDir: f.runDir,
		DryRun: f.dryRun, Confirm: f.confirm, History: history})
	if err := j.Close(); err != nil {
		fmt.Fprintf(stderr, "runbook deploy: journal: %v\n", err)
	}
	oc.WriteSummary(stdout, f.runDir)
	_ = os.WriteFile(filepath.Join(f.runDir, "exitcode"), fmt.Appendf(nil, "%d\n", oc.Code), 0o644)
	if !f.dryRun && !*noReport && oc.Refused == nil {
		fmt.Fprintf(stdout, "\n━━ Go-live report (SUCCESS CRITERIA) ━━\n")
		rc := report.MainWith([]string{f.runDir}, stdout, stderr, tgt.Redact)
		if oc.Code == exitcode.OK && rc != exitcode.OK {
			fmt.Fprintf(stdout, "(the deployment's gates passed; the report's verdict waits for the evidence still to come, such as the 4-hour watch)\n")
		}
	}
	return oc.Code
}
