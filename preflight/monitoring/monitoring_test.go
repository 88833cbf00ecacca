package monitoring_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/monitoring"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt, setup...)) }

// TestMonitoringAndAlerting is checklist item 7 against the target.
func TestMonitoringAndAlerting(t *testing.T) { flow.RunT(t, monitoring.New(tgt)) }
