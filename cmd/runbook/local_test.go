//go:build !staging && !prod

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
)

// Every action takes --dry-run and prints its plan without a platform.
func TestDryRunOfEveryAction(t *testing.T) {
	for _, args := range [][]string{
		{"deploy"}, {"backup"}, {"notify"}, {"drain"}, {"migrate"}, {"rollout"}, {"rollout", "--service", "data-service"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			dir := t.TempDir()
			var out, errOut bytes.Buffer
			code := dispatch(context.Background(), append(args, "--dry-run", "--version=v2.0.0", "--run-dir="+dir), &out, &errOut)
			require.Equal(t, exitcode.OK, code, "%s\n%s", out.String(), errOut.String())
			assert.Contains(t, out.String(), "DRY RUN")
			assert.Contains(t, out.String(), "    would:   ")
			entries, err := journal.Read(dir)
			require.NoError(t, err)
			require.NotEmpty(t, entries)
			for _, e := range entries {
				assert.Equal(t, journal.StatusDryRun, e.Status)
			}
		})
	}
}

func TestVersionIsRequired(t *testing.T) {
	t.Setenv("RUNBOOK_VERSION", "")
	var out, errOut bytes.Buffer
	assert.Equal(t, exitcode.Config, dispatch(context.Background(), []string{"rollout", "--dry-run", "--run-dir=" + t.TempDir()}, &out, &errOut))
	assert.Contains(t, errOut.String(), "no version to deploy")
}

// Locally, a real run needs a running platform: it says so before doing
// anything.
func TestDeployWithoutAPlatformSaysSo(t *testing.T) {
	t.Setenv("RUNBOOK_LOCAL_TARGET", "")
	var out, errOut bytes.Buffer
	code := dispatch(context.Background(), []string{"deploy", "--version=v2.0.0", "--run-dir=" + t.TempDir()}, &out, &errOut)
	assert.Equal(t, exitcode.Config, code)
	assert.Contains(t, errOut.String(), "make local")
	assert.Empty(t, out.String())
}
