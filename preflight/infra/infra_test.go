package infra_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/infra"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt, setup...)) }

// TestInfrastructureCheck is checklist item 2 against the target:
// TestInfrastructureCheck/All_services_healthy, .../Monitoring_enabled,
// .../Logging_operational, .../Alerts_configured.
func TestInfrastructureCheck(t *testing.T) { flow.RunT(t, infra.New(tgt)) }
