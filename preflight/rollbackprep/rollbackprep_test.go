package rollbackprep_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/rollbackprep"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt, setup...)) }

// TestRollbackPreparation is checklist item 6 against the target. The dry
// run plans from the current state (no run folder given here).
func TestRollbackPreparation(t *testing.T) { flow.RunT(t, rollbackprep.New(tgt)) }
