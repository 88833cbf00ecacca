//go:build !staging && !prod

package team_test

import (
	"github.com/granter/runbook/fixtures/harness"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
)

// env is the whole local platform; its webhook sink is the team channel.
// The roster of VERSION and the team's confirmations are written by
// preflightlab.Team.
var env *localenv.Env

var setup = []harness.Option{
	harness.WithoutPlatform(),
	harness.WithLocalSetup(localenv.Setup(&env)),
	harness.WithLocalSetup(preflightlab.Team()),
}
