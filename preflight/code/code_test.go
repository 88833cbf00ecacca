package code_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/code"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt, setup...)) }

// TestFinalCodeVerification is checklist item 4 against the target's
// checkout.
func TestFinalCodeVerification(t *testing.T) {
	flow.RunT(t, code.New(tgt))
}
