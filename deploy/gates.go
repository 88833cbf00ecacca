package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/evidence"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/postdeploy"
	"github.com/granter/runbook/preflight"
)

// The gates' Go packages: their evidence files name the package whose
// tests run the same flows and checks (go test ./preflight, ./smoke,
// ./postdeploy), as `go test -json` would.
const (
	PreflightPackage  = "github.com/granter/runbook/preflight"
	SmokePackage      = "github.com/granter/runbook/smoke"
	PostdeployPackage = "github.com/granter/runbook/postdeploy"
)

// Evidence is the run's evidence of the gate name (preflight, smoke,
// smoke.retry, postdeploy), written into the run folder as <name>.json
// (go test -json events) and <name>.junit.xml as its tests finish. The
// first call in a run starts the files afresh.
func (s *State) Evidence(name, pkg string) *evidence.Gate {
	s.evidenceMu.Lock()
	defer s.evidenceMu.Unlock()
	if s.evidence == nil {
		s.evidence = map[string]*evidence.Gate{}
	}
	g, ok := s.evidence[name]
	if !ok {
		dir := ""
		if s.RunDir != "" {
			dir = absDir(s.RunDir)
		}
		g = evidence.New(dir, name, pkg)
		s.evidence[name] = g
	}
	return g
}

// smokeEvidence records smoke flows' results as the tests of go test
// ./smoke would have (TestAuth/register, ...) in the gate's files.
func (s *State) smokeEvidence(gate string, results ...flow.Result) error {
	g := s.Evidence(gate, SmokePackage)
	var errs []error
	for _, res := range results {
		errs = append(errs, g.Flow(smokeTest(res.Flow), res))
	}
	return errors.Join(errs...)
}

// smokeTest is the go test that runs the flow (phase4.Flows: auth is
// TestAuth).
func smokeTest(flowName string) string {
	for _, f := range phase4.Flows {
		if f.Name == flowName {
			return f.Test
		}
	}
	return "Test" + flowName
}

// checkEvidence records one postdeploy check as its test of go test
// ./postdeploy would have: the lines it logged, then "✅ <summary>" or
// "Step 4.5 (Monitor Error Rate): <why>".
func (s *State) checkEvidence(ch postdeploy.Check, ev *postdeploy.Evidence, err error, took time.Duration) error {
	last, lines := "", []string(nil)
	if ev != nil {
		lines = ev.Lines
	}
	switch {
	case err != nil:
		last = fmt.Sprintf("Step %s (%s): %v", ch.Step, ch.Title, err)
	case ev != nil:
		last = "✅ " + ev.Summary
	}
	return s.Evidence("postdeploy", PostdeployPackage).Check(ch.Test, lines, err, last, took)
}

// ItemRunner runs the checklist's items, giving each item's result to
// done as it finishes; the error is about the run (a set-up that failed,
// so no item ran), never about an item.
type ItemRunner func(ctx context.Context, s *State, done func(test string, res flow.Result)) error

// PreflightItems is the ItemRunner of the runbook binary: preflight.Run in
// this process (the local set-ups in the local build, the 8 items, the
// same library code go test ./preflight runs), item 1 and 7 journaling
// into the run folder.
func PreflightItems(ctx context.Context, s *State, done func(string, flow.Result)) (err error) {
	o := preflight.Options{}
	if s.RunDir != "" {
		o.RunDir = absDir(s.RunDir)
		j, jerr := journal.Open(o.RunDir, "preflight", s.Target.Env, s.Target.Redact)
		if jerr != nil {
			return fmt.Errorf("journal: %w", jerr)
		}
		defer func() {
			if cerr := j.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("journal: %w", cerr))
			}
		}()
		o.Journal = j
	}
	return preflight.Run(ctx, s.Target, o, done)
}

// PreflightGate is the pre-deployment checklist (make preflight) as the
// first step: the items run (run; PreflightItems in the binary) into the
// run folder's preflight.json and preflight.junit.xml, then checklist.txt;
// every sub-item of the 8 items must be proven (Status: ALL COMPLETE);
// anything else stops the sequence before Phase 1.
func PreflightGate(env string, timeout time.Duration, run ItemRunner) Step {
	tags := ""
	if env != "local" {
		tags = " -tags=" + env
	}
	return Step{
		Phase: journal.Preflight, ID: "checklist", Title: "Pre-deployment checklist (8 items)",
		Manual: "make preflight ENV=" + env + "   (runbook preflight; as tests: go test -count=1" + tags + " ./preflight)",
		Would:  "run the 8 checklist items into the run folder (preflight.json, checklist.txt) and require every item ☑ (exit 3 on a blocker)",
		Class:  exitcode.Preflight, Timeout: timeout,
		Run: func(ctx context.Context, s *State, r *Record) error {
			if s.RunDir == "" {
				return errors.New("no run folder: the checklist's evidence has nowhere to go")
			}
			g := s.Evidence("preflight", PreflightPackage)
			var werr error
			runErr := run(ctx, s, func(test string, res flow.Result) {
				werr = errors.Join(werr, g.Flow(test, res))
				label := test
				for _, it := range checklist.Items {
					if it.Test == test {
						label = it.Label()
					}
				}
				for _, st := range res.Steps {
					mark := map[flow.Status]string{flow.Passed: "✅", flow.Failed: "❌"}[st.Status]
					if mark == "" {
						mark = "⚠"
					}
					r.Logf("%s %s / %s", mark, label, st.Name)
				}
			})
			if runErr != nil {
				werr = errors.Join(werr, g.Fail("runbook: "+runErr.Error()))
			}
			r.Set("gate", "preflight")
			r.Set("gate.json", g.JSONPath())
			r.Set("gate.junit", g.JUnitPath())
			if werr != nil {
				return fmt.Errorf("the checklist's evidence was not recorded: %w", werr)
			}
			raw, err := os.ReadFile(g.JSONPath())
			if err != nil {
				return err
			}
			rep, err := checklist.Read(bytes.NewReader(raw))
			if err != nil {
				return err
			}
			var text bytes.Buffer
			if err := rep.Write(&text, checklist.Heading{Env: env, Version: s.Version, At: time.Now()}); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(absDir(s.RunDir), "checklist.txt"), text.Bytes(), 0o644); err != nil {
				return err
			}
			r.Logf("%s", strings.TrimRight(text.String(), "\n"))
			blockers := rep.Blockers()
			r.Set("checklist.blockers", fmt.Sprint(len(blockers)))
			if rep.ConfigError != "" {
				return fmt.Errorf("configuration error, no check ran: %s", rep.ConfigError)
			}
			if runErr != nil {
				// The cause first: every sub-item is "not checked" because of it.
				return fmt.Errorf("the preflight run failed: %v (%d blockers; %s)", runErr, len(blockers), filepath.Join(s.RunDir, "checklist.txt"))
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
