//go:build !staging && !prod

package infra_test

import (
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/internal/suite"
)

// env is the whole local platform at v1.9.0 (production before the
// deployment): services, cluster, Prometheus with the runbook's rules.
var env *localenv.Env

var setup = []suite.Option{
	suite.WithoutPlatform(),
	suite.WithLocalSetup(localenv.Setup(&env)),
}
