//go:build !staging && !prod

package envcheck_test

import (
	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/suite"
)

// Production before the deployment: the platform at v1.9.0 (the six 2026
// migrations pending), its cluster, the staging records of VERSION and the
// migrator as a command.
var setup = []suite.Option{
	suite.WithPlatformVersion(granter.V1),
	suite.WithLocalSetup(preflightlab.Staging()),
	suite.WithLocalSetup(preflightlab.Migrator()),
	suite.WithLocalSetup(preflightlab.Kube(granter.V1)),
}
