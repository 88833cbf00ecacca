//go:build !staging && !prod

package monitoring_test

import (
	"github.com/granter/runbook/fixtures/harness"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
)

// env is the whole local platform; preflightlab points the dashboards at
// Prometheus's pages, writes the roster with its on-call shift and the
// confirmations, and sends the services real traffic for a baseline.
var env *localenv.Env

var setup = []harness.Option{
	harness.WithoutPlatform(),
	harness.WithLocalSetup(localenv.Setup(&env)),
	harness.WithLocalSetup(preflightlab.Team()),
	harness.WithLocalSetup(preflightlab.Dashboards()),
	harness.WithLocalSetup(preflightlab.Traffic(preflightlab.TrafficPerService)),
}
