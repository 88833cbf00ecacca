//go:build !staging && !prod

package envcheck_test

import (
	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/harness"
	"github.com/granter/runbook/fixtures/preflightlab"
)

// Production before the deployment: the platform at v1.9.0 (the six 2026
// migrations pending), its cluster, the staging records of VERSION and the
// migrator as a command.
var setup = []harness.Option{
	harness.WithPlatformVersion(granter.V1),
	harness.WithLocalSetup(preflightlab.Staging()),
	harness.WithLocalSetup(preflightlab.Migrator()),
	harness.WithLocalSetup(preflightlab.Kube(granter.V1)),
}
