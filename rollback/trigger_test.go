package rollback

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/stats"
	"github.com/granter/runbook/internal/target"
)

// counts is the error-rate evidence a gate journals: 5xx of requests.
func counts(errs, reqs float64) map[string]string {
	return journal.RateData(stats.UnderThreshold(errs, reqs, 0.001))
}

func TestDecideFromJournal(t *testing.T) {
	th := target.Thresholds{ErrorRate: 0.001, RollbackErrorRate: 0.01, APIP95: 200 * time.Millisecond}
	e := func(step, status string, data map[string]string) journal.Entry {
		return journal.Entry{Phase: "phase4", Step: step, Status: status, Data: data}
	}
	for _, tc := range []struct {
		name    string
		entries []journal.Entry
		want    bool
		reason  string
	}{
		{"healthy", []journal.Entry{e("4.1", "ok", map[string]string{journal.KeySmokeFlows: "auth passed, search passed"}), e("4.5", "ok", counts(0, 4000))}, false, "not met"},
		{"a broken flow", []journal.Entry{e("4.1", "failed", map[string]string{journal.KeySmokeFlows: "Auth failed, Search passed, Scraper passed"})}, true, "core functionality broken: auth"},
		{"a failed 4.1 without flows is the runbook's side", []journal.Entry{e("4.1", "failed", nil)}, false, "INCONCLUSIVE: Step 4.1 failed without a flow verdict"},
		{"a flaky flow is not broken", []journal.Entry{e("4.1", "failed", map[string]string{journal.KeySmokeFlows: "Auth flaky, Search passed"})}, false, "not met"},
		{"30 errors in 1,000 fire the rule", []journal.Entry{e("4.5", "failed", counts(30, 1000))}, true, "95% lower bound"},
		{"6 in 1,000 breach 0.1%, not the trigger", []journal.Entry{e("4.5", "failed", counts(6, 1000))}, false, "error rate 0.60% (6/1,000)"},
		{"2 in 100 is 2% but not shown over 1%", []journal.Entry{e("4.5", "failed", counts(2, 100))}, false, "INCONCLUSIVE"},
		{"a ratio without counts is not measured", []journal.Entry{e("4.5", "failed", map[string]string{journal.KeyErrorRate: "0.05"})}, false, "not measured"},
		{"health fails twice: core functionality broken", []journal.Entry{
			e("4.1", "ok", map[string]string{journal.KeySmokeFlows: "auth passed"}),
			e("4.3", "failed", map[string]string{journal.KeyCoreBroken: "Verify health checks: backend-core GET /health: want 200, got 503"}),
			e("4.5", "ok", counts(0, 4000))}, true, "core functionality broken: Step 4.3 Verify health checks"},
		{"an endpoint fails twice: core functionality broken", []journal.Entry{
			e("4.4", "failed", map[string]string{journal.KeyCoreBroken: "Spot check critical endpoints: GET /auth/me 500"})}, true, "Step 4.4"},
		{"health fails once then passes: not broken", []journal.Entry{
			e("4.3", "ok", map[string]string{journal.KeyCheckFlaky: "TestHealthChecks"}), e("4.5", "ok", counts(0, 4000))}, false, "no core flow broken"},
		{"health unreachable from the runbook: inconclusive", []journal.Entry{
			e("4.3", "failed", map[string]string{journal.KeyClass: "inconclusive", journal.KeyInconclusive: "TestHealthChecks: backend-core GET unreachable: DNS"})}, false, "INCONCLUSIVE: Step 4.3 failed on the runbook's side"},
		{"a failed 4.3 with no retry verdict: inconclusive", []journal.Entry{e("4.3", "failed", nil)}, false, "INCONCLUSIVE: Step 4.3 Verify health checks failed without a retry verdict"},
		{"an interrupted smoke run next to a broken endpoint still fires", []journal.Entry{
			e("4.1", "failed", map[string]string{journal.KeyInconclusive: "the smoke flows did not finish"}),
			e("4.4", "failed", map[string]string{journal.KeyCoreBroken: "Spot check critical endpoints: GET /search 500"})}, true, "core functionality broken: Step 4.4"},
		{"other phases ignored", []journal.Entry{{Phase: "monitor", Step: "round 1/16", Data: counts(200, 1000)}}, false, "not measured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DecideFromJournal(tc.entries, th)
			assert.Equal(t, tc.want, d.Rollback, d.Reason)
			assert.Contains(t, d.Reason, tc.reason)
			if strings.Contains(tc.reason, "INCONCLUSIVE:") {
				assert.NotEmpty(t, d.Inconclusive, "Decision.Inconclusive for reason %q", d.Reason)
			}
		})
	}
	v, ok := journal.ParseRatio("4.2%")
	assert.True(t, ok)
	assert.InDelta(t, 0.042, v, 1e-12)
	_, ok = journal.ParseRatio("no data")
	assert.False(t, ok)
	assert.True(t, math.IsNaN(math.NaN()))
}

func TestCommandAndRecordPath(t *testing.T) {
	tgt := &target.Target{Env: "prod", Confirm: "prod", Kube: &target.Kube{Context: "granter-prod"},
		Staging: target.Staging{KubeContext: "granter-staging", RollbackRecord: "/repo/runs/staging-rollback-{version}.json"}}
	assert.Equal(t, "make rollback ENV=prod CONFIRM=prod RUN=runs/x-prod", Command(tgt, "runs/x-prod"))
	assert.Equal(t, "runs/x-prod/rollback.json", DefaultRecordPath(tgt, "runs/x-prod", "v2.0.0"),
		"a production rollback never overwrites the staging drill's record")
	tgt.Env, tgt.Kube.Context = "staging", "granter-staging"
	assert.Equal(t, "/repo/runs/staging-rollback-v2.0.0.json", DefaultRecordPath(tgt, "runs/x-staging", "v2.0.0"),
		"a rollback on the staging cluster is the drill checklist item 6 reads")
}

func TestTag(t *testing.T) {
	assert.Equal(t, "v1.9.0", Tag("granter/backend-core:v1.9.0"))
	assert.Equal(t, "", Tag("registry:5000/granter/backend-core"))
	assert.Equal(t, "v2", Tag("registry:5000/granter/backend-core:v2"))
}
