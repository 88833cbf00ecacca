//go:build !staging && !prod

package monitoring_test

import (
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/suite"
)

// env is the whole local platform; preflightlab points the dashboards at
// Prometheus's pages, writes the roster with its on-call shift and the
// confirmations, and sends the services real traffic for a baseline.
var env *localenv.Env

var setup = []suite.Option{
	suite.WithoutPlatform(),
	suite.WithLocalSetup(localenv.Setup(&env)),
	suite.WithLocalSetup(preflightlab.Team()),
	suite.WithLocalSetup(preflightlab.Dashboards()),
	suite.WithLocalSetup(preflightlab.Traffic(preflightlab.TrafficPerService)),
}
