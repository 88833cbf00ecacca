package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/postdeploy"
	"github.com/granter/runbook/smoke"
)

func TestUsageListsTheActions(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, exitcode.OK, dispatch(context.Background(), []string{"help"}, &out, &out))
	for _, c := range []string{"deploy", "backup", "notify", "drain", "migrate", "rollout", "report"} {
		assert.Contains(t, out.String(), "\n  "+c+" ")
	}
	var errOut bytes.Buffer
	assert.Equal(t, exitcode.Config, dispatch(context.Background(), []string{"frobnicate"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `unknown command "frobnicate"`)
}

// The staging and prod binaries never link the local platform: only the
// local build does (its preflight gate makes the local evidence, and
// `runbook local` starts the platform).
func TestDoesNotLinkFixtures(t *testing.T) {
	for _, tags := range []string{"staging", "prod"} {
		out, err := exec.Command("go", "list", "-tags="+tags, "-deps", ".").CombinedOutput()
		require.NoError(t, err, string(out))
		for _, dep := range strings.Fields(string(out)) {
			assert.False(t, strings.Contains(dep, "testcontainers") || strings.Contains(dep, "/fixtures"), "cmd/runbook (tags %q) links %s", tags, dep)
		}
	}
}

// make smoke and make postdeploy take their -run pattern from here.
func TestTestsPrintsTheGatePattern(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, exitcode.OK, dispatch(context.Background(), []string{"tests", "postdeploy"}, &out, &errOut), errOut.String())
	assert.Equal(t, "^(TestLogs|TestNoSQLErrors|TestHealthChecks|TestCriticalEndpoints|TestErrorRate|TestNoCriticalAlerts)$\n", out.String())
	out.Reset()
	require.Equal(t, exitcode.OK, dispatch(context.Background(), []string{"tests", "smoke"}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "TestAuth|")
	assert.Equal(t, exitcode.Config, dispatch(context.Background(), []string{"tests", "monitor"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `no gate "monitor": want postdeploy | smoke`)
}

// Every Phase 4 check and flow named in internal/phase4 has an
// implementation in postdeploy and smoke, in the same order (this package
// links both and needs no platform to say so).
func TestPhase4IsImplemented(t *testing.T) {
	var checks []string
	for _, c := range postdeploy.Checks() {
		require.NotNil(t, c.Run, c.Test)
		require.NotNil(t, c.Manual, c.Test)
		checks = append(checks, c.Test)
	}
	assert.Equal(t, phase4.CheckTests(), checks)
	var flows []string
	for _, f := range smoke.Flows(&target.Target{Env: "local"}, smoke.Options{}) {
		flows = append(flows, f.Name)
	}
	assert.Equal(t, phase4.FlowNames(), flows)
}
