package postdeploy_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
)

var tgt *target.Target

// TestMain loads the target; locally, unless RUNBOOK_LOCAL_TARGET points at
// a running platform, it starts the whole local platform at v2.0.0 (the
// state Phase 4 checks) for the package (main_local_test.go).
func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt, setup...)) }
