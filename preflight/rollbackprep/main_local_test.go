//go:build !staging && !prod

package rollbackprep_test

import (
	"time"

	"github.com/granter/runbook/fixtures/harness"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
)

// env is the whole local platform at v1.9.0; preflightlab adds a verified
// backup (item 1's, with its measured restore) and the record of a
// successful rollback drill of VERSION on staging.
var env *localenv.Env

var setup = []harness.Option{
	harness.WithoutPlatform(),
	harness.WithSetupTimeout(5 * time.Minute),
	harness.WithLocalSetup(localenv.Setup(&env)),
	harness.WithLocalSetup(preflightlab.VerifiedBackup()),
	harness.WithLocalSetup(preflightlab.RollbackDrill()),
}
