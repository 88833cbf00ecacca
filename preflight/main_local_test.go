//go:build !staging && !prod

package preflight_test

import (
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/preflight"
)

// setup is production before the deployment, locally: see
// preflight.LocalSetups. The items check the platform being deployed.
var setup = func() []suite.Option {
	opts := []suite.Option{suite.WithoutPlatform(), suite.WithSetupTimeout(preflight.SetupTimeout)}
	for _, s := range preflight.LocalSetups() {
		opts = append(opts, suite.WithLocalSetup(s))
	}
	return opts
}()
