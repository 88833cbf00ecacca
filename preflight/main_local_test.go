//go:build !staging && !prod

package preflight_test

import (
	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/harness"
	"github.com/granter/runbook/fixtures/preflightlab"
)

// setup is production before the deployment, locally: the platform at
// v1.9.0 and the evidence the items read.
var setup = []harness.Option{
	harness.WithPlatformVersion(granter.V1),
	harness.WithLocalSetup(preflightlab.Checkout()),
	harness.WithLocalSetup(preflightlab.Staging()),
	harness.WithLocalSetup(preflightlab.Migrator()),
	harness.WithLocalSetup(preflightlab.Kube(granter.V1)),
}
