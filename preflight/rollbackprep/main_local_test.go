//go:build !staging && !prod

package rollbackprep_test

import (
	"time"

	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/suite"
)

// env is the whole local platform at v1.9.0; preflightlab adds a verified
// backup (item 1's, with its measured restore) and the record of a
// successful rollback drill of VERSION on staging.
var env *localenv.Env

var setup = []suite.Option{
	suite.WithoutPlatform(),
	suite.WithSetupTimeout(5 * time.Minute),
	suite.WithLocalSetup(localenv.Setup(&env)),
	suite.WithLocalSetup(preflightlab.VerifiedBackup()),
	suite.WithLocalSetup(preflightlab.RollbackDrill()),
}
