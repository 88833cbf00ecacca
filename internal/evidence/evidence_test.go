package evidence_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/evidence"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/gotestjson"
	"github.com/granter/runbook/internal/junit"
	"github.com/granter/runbook/internal/phase4"
)

const pkg = "github.com/granter/runbook/smoke"

// A flow written as evidence reads back as flow.RunT's test would: the
// failed step failed with its message, the steps after it skipped as NOT
// RUN (never passed), the flow failed, the package failed; and the JUnit
// file names the failed step and its cause.
func TestFlowReadsBackAsGoTestWroteIt(t *testing.T) {
	dir := t.TempDir()
	g := evidence.New(dir, "smoke", pkg)
	require.NoError(t, g.Flow("TestHealth", flow.Result{Flow: "health", Duration: time.Second, Steps: []flow.StepResult{
		{Name: "backend-core", Status: flow.Passed, Lines: []string{"did GET /health; saw 200"}},
	}}))
	require.NoError(t, g.Flow("TestAuth", flow.Result{Flow: "auth", Duration: time.Second, Steps: []flow.StepResult{
		{Name: "register", Status: flow.Passed, Lines: []string{"did POST /auth/register; saw 201"}},
		{Name: "login", Status: flow.Failed, Err: errors.New("backend-core POST http://api/auth/login: status 401, want 200\nbody: {}")},
		{Name: "me", Status: flow.NotRun, Err: errors.New("not run")},
		{Name: "with space", Status: flow.Skipped, Err: flow.Skip("no switch")},
	}}))

	res, err := gotestjson.ReadFile(filepath.Join(dir, "smoke.json"))
	require.NoError(t, err)
	status := func(name string) gotestjson.Status {
		tr := res.Test(name)
		require.NotNil(t, tr, "test %s not in smoke.json", name)
		return tr.Status
	}
	assert.Equal(t, gotestjson.Passed, status("TestHealth"))
	assert.Equal(t, gotestjson.Passed, status("TestAuth/register"))
	assert.Equal(t, gotestjson.Failed, status("TestAuth/login"))
	assert.Equal(t, gotestjson.Skipped, status("TestAuth/me"))
	assert.Equal(t, gotestjson.Skipped, status("TestAuth/with_space"))
	assert.Equal(t, gotestjson.Failed, status("TestAuth"))
	assert.Equal(t, gotestjson.Failed, res.Packages[pkg])
	assert.Equal(t, "backend-core POST http://api/auth/login: status 401, want 200 body: {}", res.Test("TestAuth/login").Message())
	assert.Contains(t, res.Test("TestAuth/me").Message(), `NOT RUN: step "login" failed before it`)
	assert.Equal(t, []string{"did POST /auth/register; saw 201"}, res.Test("TestAuth/register").Lines())
	assert.Equal(t, "TestAuth/login: backend-core POST http://api/auth/login: status 401, want 200 body: {}", res.Reason(res.Test("TestAuth")))

	s, err := junit.Read(filepath.Join(dir, "smoke.junit.xml"))
	require.NoError(t, err)
	require.Len(t, s.Suites, 1)
	assert.Equal(t, 7, s.Tests)
	assert.Equal(t, 2, s.Failures)
	for _, c := range s.Suites[0].Cases {
		if c.Name == "TestAuth" {
			require.NotNil(t, c.Failure)
			assert.Contains(t, c.Failure.Message, "TestAuth/login: ")
			assert.Contains(t, c.Failure.Message, "status 401")
		}
	}
}

// A passing gate passes its package; a check's lines and last line are
// its output; a cleanup failure fails the flow that passed its steps.
func TestCheckAndCleanup(t *testing.T) {
	dir := t.TempDir()
	g := evidence.New(dir, "postdeploy", "github.com/granter/runbook/postdeploy")
	require.NoError(t, g.Check("TestErrorRate", []string{"query: sum(rate(...))"}, nil, "✅ error rate 0.00%", 2*time.Second))
	res, err := g.Result()
	require.NoError(t, err)
	assert.Equal(t, gotestjson.Passed, res.Packages["github.com/granter/runbook/postdeploy"])
	assert.Equal(t, []string{"query: sum(rate(...))", "✅ error rate 0.00%"}, res.Test("TestErrorRate").Lines())
	assert.Equal(t, 2*time.Second, res.Test("TestErrorRate").Elapsed)
	assert.GreaterOrEqual(t, res.End.Sub(res.Start), 2*time.Second, "the package's run covers its tests, recorded after they ran")

	require.NoError(t, g.Check("TestLogs", nil, errors.New("3 ERROR lines"), "Step 4.2 (Check Logs for Errors): 3 ERROR lines", time.Second))
	require.NoError(t, g.Flow("TestSearch", flow.Result{Flow: "search", Steps: []flow.StepResult{{Name: "query", Status: flow.Passed}},
		CleanupErr: errors.New("DELETE /grants/x: status 500")}))
	res, err = gotestjson.ReadFile(g.JSONPath())
	require.NoError(t, err)
	assert.Equal(t, gotestjson.Failed, res.Packages["github.com/granter/runbook/postdeploy"], "a failed check fails the package")
	assert.Equal(t, "Step 4.2 (Check Logs for Errors): 3 ERROR lines", res.Test("TestLogs").Message())
	assert.Equal(t, gotestjson.Failed, res.Test("TestSearch").Status, "a failed cleanup fails the flow")
	assert.Contains(t, strings.Join(res.Test("TestSearch").Lines(), "\n"), "search/cleanup failed: DELETE /grants/x: status 500")
}

// Without a run folder nothing is written, and the result is still read.
func TestNoFolderWritesNothing(t *testing.T) {
	g := evidence.New("", "smoke", pkg)
	require.NoError(t, g.Fail("runbook: local set-up failed"))
	res, err := g.Result()
	require.NoError(t, err)
	assert.Equal(t, gotestjson.Failed, res.Packages[pkg])
	assert.Empty(t, g.JSONPath())
	_, err = os.Stat("smoke.json")
	assert.True(t, os.IsNotExist(err))
	var b bytes.Buffer
	b.WriteString(strings.Join(res.PackageOutput[pkg], "\n"))
	assert.Contains(t, b.String(), "local set-up failed")
}

// A step the target's file declares not applicable, run in process, reads
// back from smoke.json as it does from go test's: a skip whose message
// starts NOT APPLICABLE, which the staging smoke record accepts and shows.
func TestNotApplicableStepReadsBack(t *testing.T) {
	dir := t.TempDir()
	g := evidence.New(dir, "smoke", pkg)
	na := errors.New("NOT APPLICABLE on staging (declared in environments/staging.yaml): no switch; verified elsewhere: make rehearse")
	for _, name := range phase4.FlowTests() {
		res := flow.Result{Flow: name, Duration: time.Second, Steps: []flow.StepResult{{Name: "step_one", Status: flow.Passed}}}
		if name == phase4.IA.Test {
			res.Steps = append(res.Steps, flow.StepResult{Name: "fallback_when_provider_fails", Status: flow.NotApplicable, Err: na})
		}
		require.NoError(t, g.Flow(name, res))
	}
	f, err := os.Open(filepath.Join(dir, "smoke.json"))
	require.NoError(t, err)
	defer f.Close()
	rec, err := checklist.SmokeRecordFrom(f, "staging", "v2.0.0", time.Now())
	require.NoError(t, err)
	require.NoError(t, rec.Check("staging", "v2.0.0"))
	assert.Equal(t, na.Error(), rec.NotApplicable[phase4.IAFallbackOutage])
}
