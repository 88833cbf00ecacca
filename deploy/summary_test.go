package deploy_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/target"
)

// A gate run on its own (make preflight, make smoke) deployed nothing, and
// its summary must not say "v2.0.0 deployed to prod" (make rehearse's
// prod preflight said so); a run that rolled out does.
func TestSummarySaysDeployedOnlyAfterARollout(t *testing.T) {
	prod := &target.Target{Env: "prod"}
	step := func(id string, phase journal.Phase) deploy.StepResult {
		return deploy.StepResult{Step: deploy.Step{ID: id, Title: "t" + id, Phase: phase}, Status: journal.StatusOK}
	}
	for name, tc := range map[string]struct {
		steps      []deploy.StepResult
		want, deny string
	}{
		"preflight": {[]deploy.StepResult{step("preflight", journal.Preflight)}, "passed on prod for v2.0.0; this run deployed nothing", "deployed to prod"},
		"smoke":     {[]deploy.StepResult{step("4.1", journal.Phase4)}, "Step 4.1 t4.1 passed on prod for v2.0.0; this run deployed nothing", "deployed to prod"},
		"deploy":    {[]deploy.StepResult{step("3.1", journal.Phase3), step("4.1", journal.Phase4)}, "v2.0.0 deployed to prod.", "deployed nothing"},
	} {
		var out bytes.Buffer
		(&deploy.Outcome{Target: prod, Version: "v2.0.0", Steps: tc.steps}).WriteSummary(&out, "")
		assert.Contains(t, out.String(), tc.want, name)
		assert.NotContains(t, out.String(), tc.deny, name)
	}
	var out bytes.Buffer
	(&deploy.Outcome{Target: prod, Steps: []deploy.StepResult{step("preflight", journal.Preflight)}}).WriteSummary(&out, "")
	assert.Contains(t, out.String(), "passed on prod; this run deployed nothing", "no version given")
}
