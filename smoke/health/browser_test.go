package health_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke/health"
)

// On a target whose file names no browser, the browser step is NOT
// APPLICABLE with the file's reason: never passed, never a failure.
func TestBrowserStepNotApplicableWithoutBrowser(t *testing.T) {
	path, err := target.Find("local")
	require.NoError(t, err)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	without := regexp.MustCompile(`(?m)^browser:\n(  .*\n)+`).ReplaceAll(data, nil)
	require.NotEqual(t, string(data), string(without), "environments/local.yaml names a browser")
	parsed, err := target.Parse(without, path, os.LookupEnv)
	require.NoError(t, err)

	nt := *tgt // the running platform, as loaded from a file without browser:
	nt.Browser, nt.NotApplicable = parsed.Browser, parsed.NotApplicable
	res := flow.Run(t.Context(), health.New(&nt))
	require.False(t, res.Failed(), "the health flow must not fail for want of a browser:\n%s", res)
	var step *flow.StepResult
	for i := range res.Steps {
		if res.Steps[i].Name == phase4.FrontendInBrowserStep {
			step = &res.Steps[i]
		}
	}
	require.NotNil(t, step, "no %s step:\n%s", phase4.FrontendInBrowserStep, res)
	assert.Equal(t, flow.NotApplicable, step.Status, "%s", res)
	require.Error(t, step.Err)
	assert.True(t, strings.HasPrefix(step.Err.Error(), "NOT APPLICABLE on local (declared in "+path+"): the file names no browser (browser.path)"), step.Err.Error())
}
