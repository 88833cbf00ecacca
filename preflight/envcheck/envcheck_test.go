package envcheck_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/envcheck"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt, setup...)) }

// TestEnvironmentValidation is checklist item 5 against the target. The
// fresh backup it migrates a copy of is taken into a temporary folder.
func TestEnvironmentValidation(t *testing.T) {
	flow.RunT(t, envcheck.New(tgt, envcheck.WithBackupDir(t.TempDir())))
}
