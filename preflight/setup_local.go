//go:build !staging && !prod

package preflight

import (
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/suite"
)

// LocalSetups are production before the deployment, locally: the whole
// platform at v1.9.0 (services, Postgres, the cluster driving them,
// Prometheus with the runbook's alert rules, the team channel) and the
// evidence the items read: the checkout and CI status (4), the staging
// records (5), the migrator (5), the roster and the team's confirmations
// (3, 7), the staging rollback drill (6), the load balancer's TLS endpoint
// (8), the dashboards and a baseline of real traffic (7). Attached to a
// running platform (make local sets RUNBOOK_LOCAL_TARGET), the platform,
// cluster, Prometheus and webhook are that one's: localenv.Setup starts
// nothing, and only the evidence is made (the TLS endpoint when the target
// has none), so every check reads the platform being deployed.
//
// Only the local build links them (the fixtures): staging and prod have
// none (setup_remote.go).
func LocalSetups() []suite.LocalSetup {
	return []suite.LocalSetup{
		localenv.Setup(nil),
		preflightlab.Checkout(),
		preflightlab.Staging(),
		preflightlab.Migrator(),
		preflightlab.Team(),
		preflightlab.RollbackDrill(),
		preflightlab.TLS(nil),
		preflightlab.Dashboards(),
		preflightlab.Traffic(preflightlab.TrafficPerService),
	}
}
