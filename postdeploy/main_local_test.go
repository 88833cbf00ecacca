//go:build !staging && !prod

package postdeploy_test

import (
	"context"
	"os"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
)

// local is the platform this test binary started; nil when the tests run
// against one started elsewhere (RUNBOOK_LOCAL_TARGET, as in make deploy).
var local *localenv.Env

// Phase 4 needs the whole platform (logs through the cluster, Prometheus),
// not only the services suite.Main would start.
var setup = []suite.Option{suite.WithoutPlatform(), suite.WithLocalSetup(startLocal)}

func startLocal(ctx context.Context, tgt *target.Target) (func() error, error) {
	if attached(tgt) {
		return nil, nil
	}
	if tgt.Version == "" {
		tgt.Version = granter.V2
	}
	env, err := localenv.Start(ctx, tgt, localenv.WithVersion(granter.V2), localenv.WithProgress(os.Stderr))
	if err != nil {
		return nil, err
	}
	local = env
	return env.Close, nil
}

// attached: RUNBOOK_LOCAL_TARGET gave every service a URL and the cluster.
func attached(tgt *target.Target) bool {
	for _, s := range tgt.Services {
		if s.URL == "" {
			return false
		}
	}
	return tgt.Kube != nil && tgt.Kube.Kubeconfig != ""
}
