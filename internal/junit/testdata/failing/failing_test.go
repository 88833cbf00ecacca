// Package failing is a gate that fails, for internal/junit's tests: a flow
// with a failed step (and the step after it NOT RUN), an SLO check above
// its threshold, and a passing rollout check with its evidence. It lives
// under testdata so that `go test ./...` never runs it; internal/junit runs
// it on purpose through gotestsum.
package failing

import (
	"context"
	"errors"
	"testing"

	"github.com/granter/runbook/internal/flow"
)

func TestSearch(t *testing.T) {
	flow.RunT(t, flow.Flow{Name: "search", Steps: []flow.Step{
		{Name: "query", Run: func(_ context.Context, r *flow.Recorder) error {
			r.Record("GET http://127.0.0.1:18080/search?query=test", "200, 12 results")
			return nil
		}},
		{Name: "filter_category", Run: func(_ context.Context, r *flow.Recorder) error {
			r.Record("GET http://127.0.0.1:18080/search?category=research", "200, 5 results")
			return errors.New("GET http://127.0.0.1:18080/search?category=research: result 3 has category culture, want research")
		}},
		{Name: "pages_consistent", Run: func(context.Context, *flow.Recorder) error { return nil }},
	}})
}

func TestErrorRate(t *testing.T) {
	t.Errorf("error rate 0.52%% (query: sum(rate(http_requests_total{status=~\"5..\",namespace=\"granter\"}[5m])) / sum(rate(http_requests_total{namespace=\"granter\"}[5m])), window 5m, 1204 requests), want < 0.1%%")
}

func TestRollout(t *testing.T) {
	t.Log("deployment backend-core: image granter/backend-core:v2.0.0, 3/3 ready, condition Available=True (MinimumReplicasAvailable)")
}
