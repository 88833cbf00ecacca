//go:build !staging && !prod

package loadbalancer_test

import (
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/suite"
)

// env is the whole local platform; lab serves the Ingress's TLS secret,
// signed by a test CA, for both public hosts on 127.0.0.1.
var (
	env *localenv.Env
	lab *preflightlab.TLSLab
)

var setup = []suite.Option{
	suite.WithoutPlatform(),
	suite.WithLocalSetup(localenv.Setup(&env)),
	suite.WithLocalSetup(preflightlab.TLS(&lab)),
}
