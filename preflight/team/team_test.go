package team_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/team"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt, setup...)) }

// TestTeamCoordination is checklist item 3 against the target. It posts
// one message to the team's channel.
func TestTeamCoordination(t *testing.T) { flow.RunT(t, team.New(tgt)) }
