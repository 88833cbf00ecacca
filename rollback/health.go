package rollback

import (
	"context"

	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/target"
)

// waitHealthy waits until the service's health check answers 200 with the
// healthy body and, when the body says its version, that version, at most
// until ctx's deadline (thresholds.rolloutTimeout when it has none). It
// returns the version said ("unknown" when none). On timeout it says what
// it waited for and what it saw last.
func waitHealthy(ctx context.Context, tgt *target.Target, service, version string) (string, error) {
	c, err := httpcheck.ForService(tgt, service)
	if err != nil {
		return "", err
	}
	defer c.CloseIdleConnections()
	svc, _ := tgt.Service(service)
	_, h, err := c.WaitHealthy(ctx, svc.Health, version, tgt.Thresholds.RolloutTimeout, nil)
	if err != nil {
		return "", err
	}
	if h.Version == "" {
		return "unknown", nil
	}
	return h.Version, nil
}
