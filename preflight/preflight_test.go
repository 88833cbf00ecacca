package preflight_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight"
)

var tgt *target.Target

// TestMain loads the target; locally it also starts the platform at
// v1.9.0 and makes the evidence the items read (main_local_test.go).
func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt, setup...)) }

// The 8 items, in the runbook's order: go test runs a file's tests in the
// order they are written.

// 1. Database Backup.
func TestDatabaseBackup(t *testing.T) { runItem(t) }

// 2. Infrastructure Check.
func TestInfrastructureCheck(t *testing.T) { runItem(t) }

// 3. Team Coordination.
func TestTeamCoordination(t *testing.T) { runItem(t) }

// 4. Final Code Verification.
func TestFinalCodeVerification(t *testing.T) { runItem(t) }

// 5. Environment Validation.
func TestEnvironmentValidation(t *testing.T) { runItem(t) }

// 6. Rollback Preparation.
// The dry run reads the run folder's journal (item 1 recorded its backup
// there).
func TestRollbackPreparation(t *testing.T) { runItem(t) }

// 7. Monitoring & Alerting.
// The error rate baseline is recorded in the run folder's journal.
func TestMonitoringAndAlerting(t *testing.T) { runItem(t) }

// 8. Load Balancer Check.
func TestLoadBalancerCheck(t *testing.T) { runItem(t) }

// runItem runs the item named after the test, built as the runbook binary
// builds it (preflight.Item), into the run folder make gives
// (RUNBOOK_RUN_DIR).
func runItem(t *testing.T) {
	t.Helper()
	flow.RunT(t, preflight.Item(tgt, t.Name(), preflight.Options{Journal: runJournal(t), RunDir: os.Getenv("RUNBOOK_RUN_DIR")}))
}

// runJournal is the journal of the run folder make gives (RUNBOOK_RUN_DIR),
// or nil outside make.
func runJournal(t *testing.T) *journal.Journal {
	t.Helper()
	dir := os.Getenv("RUNBOOK_RUN_DIR")
	if dir == "" {
		return nil
	}
	j, err := journal.Open(dir, "preflight", tgt.Env, tgt.Redact)
	if j != nil {
		t.Cleanup(func() {
			if err := j.Close(); err != nil {
				t.Errorf("journal: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("journal: %v", err)
	}
	return j
}
