package preflight

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/backup"
	"github.com/granter/runbook/preflight/code"
	"github.com/granter/runbook/preflight/envcheck"
	"github.com/granter/runbook/preflight/infra"
	"github.com/granter/runbook/preflight/loadbalancer"
	"github.com/granter/runbook/preflight/monitoring"
	"github.com/granter/runbook/preflight/rollbackprep"
	"github.com/granter/runbook/preflight/team"
)

// Options are where the items record what they did.
type Options struct {
	// Journal, when not nil, is the run folder's journal: item 1 records
	// its backup there, item 7 the error-rate baseline.
	Journal *journal.Journal
	// RunDir is the run folder whose journal item 6's dry run reads
	// ("" outside a run).
	RunDir string
}

// Item returns the flow of the checklist item whose test is test
// (checklist.Items[i].Test: TestDatabaseBackup, ...), new: run it once.
// The go test of this package and the runbook binary both build the items
// here. An unknown test is a bug: it panics.
func Item(tgt *target.Target, test string, o Options) flow.Flow {
	switch test {
	case "TestDatabaseBackup": // 1
		return backup.New(tgt, backup.WithJournal(o.Journal))
	case "TestInfrastructureCheck": // 2
		return infra.New(tgt)
	case "TestTeamCoordination": // 3
		return team.New(tgt)
	case "TestFinalCodeVerification": // 4
		return code.New(tgt)
	case "TestEnvironmentValidation": // 5
		return envcheck.New(tgt)
	case "TestRollbackPreparation": // 6: the dry run reads item 1's backup from the journal
		return rollbackprep.New(tgt, rollbackprep.WithRunDir(o.RunDir))
	case "TestMonitoringAndAlerting": // 7
		return monitoring.New(tgt, monitoring.WithJournal(o.Journal))
	case "TestLoadBalancerCheck": // 8
		return loadbalancer.New(tgt)
	}
	panic("preflight: no item for test " + test + " (checklist.Items)")
}

// SetupTimeout bounds the local set-ups together (the platform's evidence:
// a checkout, the staging records, baseline traffic); staging and prod
// have none.
const SetupTimeout = 8 * time.Minute

// Run is `go test ./preflight` in this process: the local set-ups
// (LocalSetups; none on staging and prod), the 8 items in the runbook's
// order, then the set-ups' cleanups, always. done gets each item's result
// as it finishes. The error says a set-up failed (no item ran: its checks
// would prove nothing) or a cleanup failed (after every item ran).
func Run(ctx context.Context, tgt *target.Target, o Options, done func(test string, res flow.Result)) error {
	var cleanups []func() error
	cleanup := func() error {
		var errs []error
		for i := len(cleanups) - 1; i >= 0; i-- {
			errs = append(errs, cleanups[i]())
		}
		return errors.Join(errs...)
	}
	sctx, cancel := context.WithTimeout(ctx, SetupTimeout)
	for _, s := range LocalSetups() {
		c, err := s(sctx, tgt)
		if c != nil {
			cleanups = append(cleanups, c)
		}
		if err != nil {
			cancel()
			return errors.Join(fmt.Errorf("local set-up failed; no item ran: %w", err), cleanup())
		}
	}
	cancel()
	for _, it := range checklist.Items {
		done(it.Test, flow.Run(ctx, Item(tgt, it.Test, o)))
	}
	if err := cleanup(); err != nil {
		return fmt.Errorf("local clean-up: %w", err)
	}
	return nil
}
