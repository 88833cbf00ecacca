package flow_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/flow"
)

// demo is a flow whose second step fails; it counts what ran.
func demo(ran *[]string, secondErr error) flow.Flow {
	step := func(name string, err error) flow.Step {
		return flow.Step{Name: name, Run: func(ctx context.Context, r *flow.Recorder) error {
			*ran = append(*ran, name)
			r.Record("step "+name, "token hunter2-secret")
			return err
		}}
	}
	return flow.Flow{
		Name:  "demo",
		Steps: []flow.Step{step("first", nil), step("second", secondErr), step("third", nil)},
		Cleanup: func(ctx context.Context, r *flow.Recorder) error {
			*ran = append(*ran, "cleanup")
			if ctx.Err() != nil {
				return errors.New("cleanup got a dead context")
			}
			r.Logf("deleted the demo data")
			return nil
		},
		Redact: func(s string) string { return strings.ReplaceAll(s, "hunter2-secret", "[REDACTED]") },
	}
}

func TestRunStopsAtFirstFailureAndAlwaysCleansUp(t *testing.T) {
	var ran []string
	res := flow.Run(t.Context(), demo(&ran, errors.New("want 200, got 500 (password hunter2-secret)")))
	assert.Equal(t, []string{"first", "second", "cleanup"}, ran)
	require.True(t, res.Failed())
	assert.Equal(t, "second", res.FailedStep())
	assert.Equal(t, []flow.Status{flow.Passed, flow.Failed, flow.NotRun}, statuses(res))
	assert.EqualError(t, res.Err(), "demo/second: want 200, got 500 (password [REDACTED])")
	assert.Equal(t, []string{"did step first; saw token [REDACTED]"}, res.Steps[0].Lines)
	assert.Equal(t, []string{"deleted the demo data"}, res.Cleanup)
	assert.Contains(t, res.String(), "not run  third")
}

func TestRunCleanupFailureFailsTheFlow(t *testing.T) {
	f := flow.Flow{Name: "demo", Steps: []flow.Step{{Name: "ok", Run: func(context.Context, *flow.Recorder) error { return nil }}},
		Cleanup: func(context.Context, *flow.Recorder) error { return errors.New("DELETE /auth/me: status 500") }}
	res := flow.Run(t.Context(), f)
	assert.EqualError(t, res.Err(), "demo/cleanup: DELETE /auth/me: status 500")
}

func TestRunSkipIsNotAPass(t *testing.T) {
	f := flow.Flow{Name: "demo", Steps: []flow.Step{
		{Name: "optional", Run: func(context.Context, *flow.Recorder) error { return flow.Skip("target has no %s", "switch") }},
		{Name: "next", Run: func(context.Context, *flow.Recorder) error { return nil }},
	}}
	res := flow.Run(t.Context(), f)
	assert.False(t, res.Failed())
	assert.Equal(t, []flow.Status{flow.Skipped, flow.Passed}, statuses(res))
	assert.EqualError(t, res.Steps[0].Err, "not applicable: target has no switch")
}

func TestRunRecoversPanicsAndBoundsTime(t *testing.T) {
	cleaned := false
	f := flow.Flow{Name: "demo", Timeout: 50 * time.Millisecond, Steps: []flow.Step{
		{Name: "waits", Run: func(ctx context.Context, _ *flow.Recorder) error {
			<-ctx.Done()
			return context.Cause(ctx)
		}},
	}, Cleanup: func(context.Context, *flow.Recorder) error { cleaned = true; panic("boom") }}
	res := flow.Run(t.Context(), f)
	assert.ErrorContains(t, res.Steps[0].Err, "flow demo ran out of time (50ms)")
	assert.True(t, cleaned)
	assert.ErrorContains(t, res.CleanupErr, "panic: boom")
}

func statuses(r flow.Result) []flow.Status {
	var out []flow.Status
	for _, s := range r.Steps {
		out = append(out, s.Status)
	}
	return out
}

// TestRunTDemo is the flow RunT reports on in TestRunTReportsNotRun; it only
// runs (and fails, on purpose) in that child process.
func TestRunTDemo(t *testing.T) {
	if os.Getenv("FLOW_RUNT_DEMO") != "1" {
		t.Skip("run by TestRunTReportsNotRun in a child process")
	}
	var ran []string
	flow.RunT(t, demo(&ran, errors.New("want 200, got 500")))
}

func TestRunTReportsNotRun(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestRunTDemo$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "FLOW_RUNT_DEMO=1")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "the demo flow must fail:\n%s", out)
	for _, want := range []string{
		"--- PASS: TestRunTDemo/first",
		"--- FAIL: TestRunTDemo/second",
		"FAILED: want 200, got 500",
		"--- SKIP: TestRunTDemo/third",
		`NOT RUN: step "second" failed before it`,
		"NOT RUN (they prove nothing about this deployment): third",
		"cleanup: deleted the demo data",
		"did step first; saw token [REDACTED]",
		"--- FAIL: TestRunTDemo ",
	} {
		assert.Contains(t, string(out), want)
	}
	assert.NotContains(t, string(out), "hunter2-secret")
}

func TestIndependentStepsAllRun(t *testing.T) {
	step := func(name string, err error) flow.Step {
		return flow.Step{Name: name, Independent: true, Run: func(context.Context, *flow.Recorder) error { return err }}
	}
	res := flow.Run(t.Context(), flow.Flow{Name: "health", Steps: []flow.Step{
		step("backend-core", errors.New("/health: 503")), step("data-service", nil), step("web-frontend", errors.New("/: 500")),
	}})
	assert.Equal(t, []flow.Status{flow.Failed, flow.Passed, flow.Failed}, statuses(res))
	assert.EqualError(t, res.Err(), "health/backend-core: /health: 503\nhealth/web-frontend: /: 500")
}

func TestUnique(t *testing.T) {
	a, b := flow.Unique("smoke-"), flow.Unique("smoke-")
	assert.NotEqual(t, a, b)
	assert.Regexp(t, `^smoke-\d{19}-[0-9a-f]{8}$`, a)
}

// A skip the target's file declares is NOT APPLICABLE, with the
// declaration's text; an undeclared skip stays skipped; a declared step
// that fails is still a failure.
func TestNotApplicableOnlyWhenDeclared(t *testing.T) {
	declared := func(step string) (string, bool) {
		return "NOT APPLICABLE on prod (declared in environments/prod.yaml): no switch; verified elsewhere: local", step == "outage" || step == "broken"
	}
	skip := flow.Step{Name: "outage", Run: func(context.Context, *flow.Recorder) error { return flow.Skip("no switch here") }}
	other := flow.Step{Name: "other_skip", Run: func(context.Context, *flow.Recorder) error { return flow.Skip("no switch here") }}
	broken := flow.Step{Name: "broken", Run: func(context.Context, *flow.Recorder) error { return errors.New("expected 200, got 500") }, Independent: true}
	res := flow.Run(context.Background(), flow.Flow{Name: "ia", Steps: []flow.Step{skip, other, broken}, NotApplicable: declared})

	require.Len(t, res.Steps, 3)
	assert.Equal(t, flow.NotApplicable, res.Steps[0].Status)
	assert.True(t, strings.HasPrefix(res.Steps[0].Err.Error(), flow.NotApplicableMark), res.Steps[0].Err.Error())
	assert.Contains(t, res.Steps[0].Err.Error(), "no switch here", "the step's own reason is kept")
	assert.Equal(t, flow.Skipped, res.Steps[1].Status, "a skip nobody declared stays a skip")
	assert.Equal(t, flow.Failed, res.Steps[2].Status, "a declaration never hides a failure")

	noDecl := flow.Run(context.Background(), flow.Flow{Name: "ia", Steps: []flow.Step{skip}})
	assert.Equal(t, flow.Skipped, noDecl.Steps[0].Status)
}
