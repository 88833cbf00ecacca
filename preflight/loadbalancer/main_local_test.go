//go:build !staging && !prod

package loadbalancer_test

import (
	"github.com/granter/runbook/fixtures/harness"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
)

// env is the whole local platform; lab serves the Ingress's TLS secret,
// signed by a test CA, for both public hosts on 127.0.0.1.
var (
	env *localenv.Env
	lab *preflightlab.TLSLab
)

var setup = []harness.Option{
	harness.WithoutPlatform(),
	harness.WithLocalSetup(localenv.Setup(&env)),
	harness.WithLocalSetup(preflightlab.TLS(&lab)),
}
