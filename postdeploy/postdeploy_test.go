package postdeploy_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/postdeploy"
)

// Steps 4.2-4.5, in the runbook's order: go test runs a file's tests in the
// order they are written, and make deploy runs this package with -failfast,
// so the first failure stops the checks after it.

// Step 4.2: Check Logs for Errors.
func TestLogs(t *testing.T) { check(t) }

// Success criterion: No SQL errors in logs.
func TestNoSQLErrors(t *testing.T) { check(t) }

// Step 4.3: Verify Health Checks.
func TestHealthChecks(t *testing.T) { check(t) }

// Step 4.4: Spot Check Critical Endpoints.
func TestCriticalEndpoints(t *testing.T) { check(t) }

// Step 4.5: Monitor Error Rate.
func TestErrorRate(t *testing.T) { check(t) }

// Success criterion: No critical alerts triggered.
func TestNoCriticalAlerts(t *testing.T) { check(t) }

// TestFaultsAreCaught proves, locally, that each check fails on the fault it
// is meant for, naming the cause. It runs last: the faults leave errors in
// the logs and the metrics that the checks above must not see.
func TestFaultsAreCaught(t *testing.T) { faultProofs(t) }

var (
	checkerOnce sync.Once
	checker     *postdeploy.Checker
)

// shared is one Checker for the package: the logs are read once for 4.2's
// two checks. Its window starts when Phase 3 ended, from the journal of the
// run folder make gives (RUNBOOK_RUN_DIR).
func shared() *postdeploy.Checker {
	checkerOnce.Do(func() {
		checker = postdeploy.NewChecker(tgt, postdeploy.PhaseThreeEnded(os.Getenv("RUNBOOK_RUN_DIR")))
	})
	return checker
}

// check runs the check named after the test, logs what it saw, journals it
// when make gives a run folder, and fails with its message.
func check(t *testing.T) {
	t.Helper()
	flow.Uncached(t)
	ch, ok := postdeploy.Lookup(t.Name())
	if !ok {
		t.Fatalf("no postdeploy check for %s", t.Name())
	}
	started := time.Now()
	ev, err := shared().Run(context.Background(), ch, func(line string) { t.Log(line) })
	writeJournal(t, ch, ev, err, started)
	if err != nil {
		t.Fatalf("Step %s (%s): %v", ch.Step, ch.Title, err)
	}
	t.Logf("✅ %s", ev.Summary)
}

func writeJournal(t *testing.T, ch postdeploy.Check, ev *postdeploy.Evidence, err error, started time.Time) {
	t.Helper()
	dir := os.Getenv("RUNBOOK_RUN_DIR")
	if dir == "" {
		return
	}
	j, jerr := journal.Open(dir, filepath.Base(dir), tgt.Env, tgt.Redact)
	if jerr != nil {
		t.Errorf("journal: %v", jerr)
		return
	}
	defer j.Close()
	e := journal.Entry{Phase: "phase4", Step: ch.Step, Action: ch.Title + " (" + ch.Test + "): " + ev.Summary,
		Manual: ch.Manual(tgt), Status: journal.StatusOK, Started: started.UTC(), Duration: time.Since(started), Data: ev.Data}
	if err != nil {
		e.Status, e.Error, e.Action = journal.StatusFailed, err.Error(), ch.Title+" ("+ch.Test+")"
	}
	if jerr := j.Add(e); jerr != nil {
		t.Errorf("journal: %v", jerr)
	}
}
