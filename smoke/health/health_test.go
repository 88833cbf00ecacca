package health_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke/health"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt)) }

// TestHealth is the health flow of Step 4.1: TestHealth/backend-core, ..., TestHealth/database.
func TestHealth(t *testing.T) { flow.RunT(t, health.New(tgt)) }
