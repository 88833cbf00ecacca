package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/gotestjson"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/proc"
)

// GoTest is a gate run as a child `go test`, through gotestsum, into the
// run folder: <Name>.json (go test -json) and <Name>.junit.xml. The child
// loads the same target (environments/<env>.yaml, RUNBOOK_LOCAL_TARGET) and
// gets RUNBOOK_VERSION and RUNBOOK_RUN_DIR.
type GoTest struct {
	Name     string // the gate: preflight, smoke, postdeploy
	Pkg      string // ./preflight
	Run      string // -run pattern; "" runs every test
	Tags     string // the build tag ("" for local)
	Timeout  time.Duration
	FailFast bool
	// Dir is the module root the command runs in ("" the working directory).
	Dir string
}

// Args is the command line: go tool gotestsum ... -- -count=1 ... <pkg>.
func (g GoTest) Args(runDir string) []string {
	args := []string{"go", "tool", "gotestsum", "--format", "testname",
		"--jsonfile", filepath.Join(runDir, g.Name+".json"), "--junitfile", filepath.Join(runDir, g.Name+".junit.xml"),
		"--", "-count=1", "-timeout=" + g.Timeout.String()}
	if g.Tags != "" {
		args = append(args, "-tags="+g.Tags)
	}
	if g.FailFast {
		args = append(args, "-failfast")
	}
	if g.Run != "" {
		args = append(args, "-run", g.Run)
	}
	return append(args, g.Pkg)
}

// Manual is the command as a person would type it.
func (g GoTest) Manual() string {
	s := "go test -count=1"
	if g.Tags != "" {
		s += " -tags=" + g.Tags
	}
	if g.FailFast {
		s += " -failfast"
	}
	if g.Run != "" {
		s += " -run '" + g.Run + "'"
	}
	return s + " " + g.Pkg
}

// exec runs the gate and reads its results. The error is about running it
// (it did not start, its results are unreadable); a failed test shows in
// the result.
func (g GoTest) exec(ctx context.Context, s *State, r *Record) (*gotestjson.Result, error) {
	if s.RunDir == "" {
		return nil, errors.New("no run folder: the gate's results have nowhere to go")
	}
	dir := absDir(s.RunDir)
	args := g.Args(dir)
	cmd := proc.Command(ctx, args[0], args[1:]...)
	cmd.Dir = g.Dir
	cmd.Env = append(os.Environ(), "RUNBOOK_VERSION="+s.Version, "RUNBOOK_RUN_DIR="+dir)
	cmd.Stdout, cmd.Stderr = r.Writer(), r.Writer()
	cmd.WaitDelay = 30 * time.Second
	r.Logf("$ %s", strings.Join(args, " "))
	runErr := cmd.Run()
	res, err := gotestjson.ReadFile(filepath.Join(dir, g.Name+".json"))
	if err != nil {
		return nil, fmt.Errorf("%s: no readable results (%v) after: %v", g.Manual(), err, runErr)
	}
	r.Set("gate", g.Name)
	r.Set("gate.json", filepath.Join(dir, g.Name+".json"))
	r.Set("gate.junit", filepath.Join(dir, g.Name+".junit.xml"))
	if runErr != nil && !res.PackageFailed() && len(res.Failed()) == 0 {
		return res, fmt.Errorf("%s: %v (no test failed: a build error or a timeout?): %s", g.Manual(), runErr, strings.Join(tail(res.Stray, 5), "; "))
	}
	return res, nil
}

// firstFailure names the first test that failed and why.
func firstFailure(res *gotestjson.Result) (string, string) {
	leaves := res.Leaves()
	if len(leaves) == 0 {
		for pkg, st := range res.Packages {
			if st == gotestjson.Failed {
				return pkg, strings.Join(tail(res.PackageOutput[pkg], 8), "\n")
			}
		}
		return "", ""
	}
	t := leaves[0]
	return t.Name, res.Reason(t)
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// PreflightGate is the pre-deployment checklist (make preflight) as the
// first step: every sub-item of the 8 items must be proven (Status: ALL
// COMPLETE); anything else stops the sequence before Phase 1.
func PreflightGate(g GoTest, env string) Step {
	return Step{
		Phase: journal.Preflight, ID: "checklist", Title: "Pre-deployment checklist (8 items)",
		Manual: "make preflight ENV=" + env + "   (" + g.Manual() + " | go run ./cmd/checklist)",
		Would:  "run " + g.Manual() + " into the run folder and require every item ☑ (exit 3 on a blocker)",
		Class:  exitcode.Preflight, Timeout: g.Timeout + time.Minute,
		Run: func(ctx context.Context, s *State, r *Record) error {
			if _, err := g.exec(ctx, s, r); err != nil {
				return err
			}
			var raw bytes.Buffer
			f, err := os.Open(filepath.Join(absDir(s.RunDir), g.Name+".json"))
			if err != nil {
				return err
			}
			_, err = raw.ReadFrom(f)
			f.Close()
			if err != nil {
				return err
			}
			rep, err := checklist.Read(&raw)
			if err != nil {
				return err
			}
			var text bytes.Buffer
			_ = rep.Write(&text, checklist.Heading{Env: env, Version: s.Version, At: time.Now()})
			_ = os.WriteFile(filepath.Join(absDir(s.RunDir), "checklist.txt"), text.Bytes(), 0o644)
			r.Logf("%s", strings.TrimRight(text.String(), "\n"))
			blockers := rep.Blockers()
			r.Set("checklist.blockers", fmt.Sprint(len(blockers)))
			if rep.ConfigError != "" {
				return fmt.Errorf("configuration error, no check ran: %s", rep.ConfigError)
			}
			if len(blockers) > 0 || rep.ExitCode() != exitcode.OK {
				return fmt.Errorf("%d checklist sub-items block (Status: BLOCKED; %s):\n  %s", len(blockers), filepath.Join(s.RunDir, "checklist.txt"), strings.Join(firstLines(blockers, 8), "\n  "))
			}
			r.Resultf("Status: ☑️ ALL COMPLETE → Proceed")
			return nil
		},
	}
}

func firstLines(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	return append(append([]string(nil), lines[:n]...), fmt.Sprintf("... and %d more (see checklist.txt)", len(lines)-n))
}

// SmokeGate is Step 4.1: the five smoke flows (go test -run ... ./smoke;
// the package's other tests prove the suite itself and are not the gate).
func SmokeGate(g GoTest) Step {
	if g.Run == "" {
		g.Run = phase4.RunPattern(phase4.FlowTests())
	}
	return Step{
		Phase: journal.Phase4, ID: phase4.SmokeStep, Title: phase4.SmokeTitle,
		Manual: g.Manual() + "   (as written in the runbook: npm run test:smoke)",
		Would:  "run " + g.Manual() + ": " + strings.Join(phase4.FlowNames(), ", ") + " must pass",
		// Room for the run and an immediate retry of the failed flows.
		Class: exitcode.Smoke, Timeout: 2*g.Timeout + time.Minute,
		Run: func(ctx context.Context, s *State, r *Record) error {
			res, err := g.exec(ctx, s, r)
			if err != nil {
				return err
			}
			if ctx.Err() != nil {
				return fmt.Errorf("the smoke flows did not finish: %w", context.Cause(ctx))
			}
			flaky, twice, why, err := retryFailedFlows(ctx, g, res, s, r)
			if err != nil {
				return err
			}
			var flows, skipped []string
			for _, t := range res.Tests {
				if !strings.Contains(t.Name, "/") {
					status := string(t.Status)
					if slices.Contains(flaky, t.Name) {
						status = "flaky"
					}
					flows = append(flows, fmt.Sprintf("%s %s", strings.TrimPrefix(t.Name, "Test"), status))
				} else if t.Status == gotestjson.Skipped {
					skipped = append(skipped, t.Name)
				}
			}
			r.Set(journal.KeySmokeFlows, strings.Join(flows, ", "))
			if len(twice) > 0 {
				return fmt.Errorf("smoke %s failed, and again on an immediate retry: %s", strings.Join(twice, ", "), why)
			}
			for _, f := range phase4.FlowTests() {
				if tr := res.Test(f); (tr == nil || tr.Status != gotestjson.Passed) && !slices.Contains(flaky, f) {
					return fmt.Errorf("smoke flow %s did not pass (ran: %s); Step 4.1 needs all %d", f, strings.Join(flows, ", "), len(phase4.Flows))
				}
			}
			if len(flaky) > 0 {
				r.Set(journal.KeySmokeFlaky, strings.Join(flaky, ", "))
				r.Logf("⚠ %s failed once and passed on an immediate retry: an intermittent failure, which the error rate (Step 4.5) judges; the go-live report still shows it", strings.Join(flaky, ", "))
			}
			if len(skipped) > 0 {
				r.Set("smoke.skipped", strings.Join(skipped, ", "))
				r.Logf("⚠ skipped (not counted as passed): %s", strings.Join(skipped, ", "))
			}
			r.Resultf("%s", strings.Join(flows, ", "))
			return nil
		},
	}
}

// retryFailedFlows runs the flows that failed once more, at once, into
// <gate>.retry.json: a flow that fails again is broken (the rollback
// rule's "core functionality broken"); one that passes failed
// intermittently (flaky). why is the retry's first failure. No failed
// flow: nothing runs.
func retryFailedFlows(ctx context.Context, g GoTest, res *gotestjson.Result, s *State, r *Record) (flaky, twice []string, why string, err error) {
	var failed []string
	for _, f := range phase4.FlowTests() {
		if tr := res.Test(f); tr != nil && tr.Status == gotestjson.Failed {
			failed = append(failed, f)
		}
	}
	if len(failed) == 0 {
		return nil, nil, "", nil
	}
	first := map[string]string{}
	for _, k := range []string{"gate", "gate.json", "gate.junit"} {
		first[k] = r.data[k]
	}
	retry := g
	retry.Name, retry.Run = g.Name+".retry", phase4.RunPattern(failed)
	r.Logf("%s failed: running %s again at once (failing twice is broken; passing on the retry is intermittent)", strings.Join(failed, ", "), strings.Join(failed, ", "))
	again, err := retry.exec(ctx, s, r)
	for k, v := range first {
		r.Set(k, v)
	}
	r.Set("gate.retry.json", filepath.Join(absDir(s.RunDir), retry.Name+".json"))
	if err != nil {
		return nil, nil, "", fmt.Errorf("retrying the failed flows (%s): %w", strings.Join(failed, ", "), err)
	}
	for _, f := range failed {
		if tr := again.Test(f); tr != nil && tr.Status == gotestjson.Passed {
			flaky = append(flaky, f)
		} else {
			twice = append(twice, f)
		}
	}
	if name, reason := firstFailure(again); name != "" {
		why = name + ": " + reason
	}
	return flaky, twice, why, nil
}

// PostdeployGate is Steps 4.2-4.5 (go test ./postdeploy). Every check
// runs, so that none hides another's evidence from the rollback rule (an
// ERROR line in the logs must not leave the error rate unmeasured). It
// journals each check itself; the failure names the first step that
// failed.
func PostdeployGate(g GoTest) Step {
	tests := phase4.CheckTests()
	if g.Run == "" {
		g.Run = phase4.RunPattern(tests)
	}
	return Step{
		Phase: journal.Phase4, ID: "4.2-4.5", Title: "Logs, health checks, spot checks, error rate",
		Manual: g.Manual(),
		Would:  "run " + g.Manual() + ": " + strings.Join(tests, ", ") + ", every one of them",
		Class:  exitcode.SLO, Timeout: g.Timeout + time.Minute,
		Run: func(ctx context.Context, s *State, r *Record) error {
			res, err := g.exec(ctx, s, r)
			if err != nil {
				return err
			}
			if name, why := firstFailure(res); name != "" {
				top, _, _ := strings.Cut(name, "/")
				if c, ok := phase4.LookupCheck(top); ok {
					r.Set("failed.step", c.Step)
					r.Set(journal.KeyClass, exitcode.Class(c.Class))
					return fmt.Errorf("Step %s (%s, %s) failed: %s", c.Step, c.Title, c.Test, why)
				}
				return fmt.Errorf("%s failed: %s", name, why)
			}
			var passed []string
			for _, t := range tests {
				if tr := res.Test(t); tr != nil && tr.Status == gotestjson.Passed {
					passed = append(passed, t)
				}
			}
			if len(passed) != len(tests) {
				return fmt.Errorf("%d of %d checks passed (%s): the others did not run", len(passed), len(tests), strings.Join(passed, ", "))
			}
			r.Resultf("%s passed", strings.Join(passed, ", "))
			return nil
		},
	}
}
