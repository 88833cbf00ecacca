//go:build !staging && !prod

package infra_test

import (
	"github.com/granter/runbook/fixtures/harness"
	"github.com/granter/runbook/fixtures/localenv"
)

// env is the whole local platform at v1.9.0 (production before the
// deployment): services, cluster, Prometheus with the runbook's rules.
var env *localenv.Env

var setup = []harness.Option{
	harness.WithoutPlatform(),
	harness.WithLocalSetup(localenv.Setup(&env)),
}
