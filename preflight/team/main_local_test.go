//go:build !staging && !prod

package team_test

import (
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/suite"
)

// env is the whole local platform; its webhook sink is the team channel.
// The roster of VERSION and the team's confirmations are written by
// preflightlab.Team.
var env *localenv.Env

var setup = []suite.Option{
	suite.WithoutPlatform(),
	suite.WithLocalSetup(localenv.Setup(&env)),
	suite.WithLocalSetup(preflightlab.Team()),
}
