package rollback

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/target"
)

// HealthPoll is how often Step 5 asks a service's health check while it
// waits for the service to answer at the previous version. Only the
// service's answer says it is back; there is no event to wait on.
const HealthPoll = 250 * time.Millisecond

// waitHealthy waits until the service's health check answers 200 with
// "status":"healthy" and, when the body says its version, that version.
// A body without a version is accepted on its status alone (it returns
// "unknown"). On ctx's end it says what it waited for and what it saw last.
func waitHealthy(ctx context.Context, tgt *target.Target, service, version string) (string, error) {
	svc, ok := tgt.Service(service)
	if !ok {
		return "", fmt.Errorf("%s: the target lists no such service", service)
	}
	c, err := httpcheck.ForService(tgt, service)
	if err != nil {
		return "", err
	}
	defer c.CloseIdleConnections()
	tick := time.NewTicker(HealthPoll)
	defer tick.Stop()
	last := "no answer yet"
	for {
		var body struct {
			Status  string `json:"status"`
			Version string `json:"version"`
		}
		_, err := c.GetJSON(ctx, svc.Health, http.StatusOK, &body)
		switch {
		case err != nil:
			last = err.Error()
		case body.Status != "healthy":
			last = fmt.Sprintf("status %q", body.Status)
		case body.Version == "":
			return "unknown", nil
		case version == "" || body.Version == version:
			return body.Version, nil
		default:
			last = fmt.Sprintf("healthy but at version %s", body.Version)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s: waited for %s%s to answer 200 healthy at version %s; last seen: %s: %w",
				service, svc.URL, svc.Health, version, last, context.Cause(ctx))
		case <-tick.C:
		}
	}
}
