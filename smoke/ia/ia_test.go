package ia_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke/ia"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt)) }

// TestIA is the IA flow of Step 4.1: TestIA/extract_ai, TestIA/fallback_forced_off, ...
func TestIA(t *testing.T) {
	flow.RunT(t, ia.New(tgt, ia.WithProviderOutage(suite.AIProviderOutage)))
}
