//go:build staging || prod

package postdeploy_test

import (
	"testing"

	"github.com/granter/runbook/internal/suite"
)

// Staging and prod: the target's configuration points at the deployed
// platform; nothing is started.
var setup []suite.Option

// faultProofs breaks the local platform on purpose; a deployed target has
// no switches.
func faultProofs(t *testing.T) {
	t.Skip("the fault proofs need the local platform's fault switches (no build tag)")
}
