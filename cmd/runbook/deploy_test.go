//go:build !staging && !prod

package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/rollback"
)

// A deployment stopped by a broken smoke flow in Phase 4: without
// AUTO_ROLLBACK the rule's verdict and the exact command are printed and
// the exit code stays the deployment's; with it the rollback runs, and a
// rollback that cannot run (here: no platform, no backup) is exit 7.
func TestDeployAutoRollbackWiring(t *testing.T) {
	t.Setenv("RUNBOOK_LOCAL_TARGET", "")
	tgt, code := loadTarget(context.Background(), &bytes.Buffer{})
	require.NotNil(t, tgt, "exit %d", code)
	dir := t.TempDir()
	j, err := journal.Open(dir, "run", tgt.Env, tgt.Redact)
	require.NoError(t, err)
	defer j.Close()
	require.NoError(t, j.Add(journal.Entry{Phase: "phase4", Step: "4.1", Status: journal.StatusFailed, Error: "smoke TestAuth failed",
		Data: map[string]string{journal.KeySmokeFlows: "Auth failed, Search passed, Scraper passed, IA passed, Health passed"}}))

	var out, errOut bytes.Buffer
	got := deployRollback(context.Background(), tgt, exitcode.Smoke, false, rollback.Options{RunDir: dir, Journal: j, Out: &out}, &out, &errOut)
	assert.Equal(t, exitcode.Smoke, got, "without AUTO_ROLLBACK the deployment's code")
	assert.Contains(t, out.String(), "auth")
	assert.Contains(t, out.String(), rollback.Command(tgt, dir))

	out.Reset()
	got = deployRollback(context.Background(), tgt, exitcode.Smoke, true, rollback.Options{RunDir: dir, Journal: j, Out: &out}, &out, &errOut)
	assert.Equal(t, exitcode.Rollback, got, "the rollback ran and failed: %s", out.String())
	assert.Contains(t, out.String(), "AUTO_ROLLBACK=1: starting the rollback")
	assert.Contains(t, errOut.String(), "the automatic rollback FAILED")
}

// --auto-rollback defaults to AUTO_ROLLBACK.
func TestDeployAutoRollbackFlagFromEnv(t *testing.T) {
	for env, want := range map[string]string{"1": "true", "yes": "true", "": "false", "0": "false"} {
		t.Setenv("AUTO_ROLLBACK", env)
		var out, errOut bytes.Buffer
		code := dispatch(context.Background(), []string{"deploy", "-h"}, &out, &errOut)
		assert.Equal(t, exitcode.OK, code)
		if want == "true" {
			assert.Contains(t, errOut.String(), "(default true)", "AUTO_ROLLBACK=%q", env)
		} else {
			assert.NotContains(t, errOut.String(), "(default true)", "AUTO_ROLLBACK=%q", env)
		}
	}
}

// The gates on their own (make smoke, make postdeploy, runbook smoke
// --version) hold the services to the version on the command line, as make
// deploy does: the rehearsal's staging smoke run skipped TestHealth/version
// because --version never reached the target.
func TestVersionFlagReachesTheTarget(t *testing.T) {
	t.Setenv("RUNBOOK_LOCAL_TARGET", "")
	t.Setenv("RUNBOOK_VERSION", "")
	for _, name := range []string{"smoke", "postdeploy", "backup"} {
		var errOut bytes.Buffer
		tgt, _, code := prologue(context.Background(), name, []string{"--version=v2.0.7"}, nil, &errOut)
		require.NotNil(t, tgt, "%s: exit %d: %s", name, code, errOut.String())
		assert.Equal(t, "v2.0.7", tgt.Version, "%s --version=v2.0.7: the version the gates hold /health to", name)
	}
	t.Setenv("RUNBOOK_VERSION", "v2.0.8")
	tgt, _, code := prologue(context.Background(), "smoke", nil, nil, &bytes.Buffer{})
	require.NotNil(t, tgt, "exit %d", code)
	assert.Equal(t, "v2.0.8", tgt.Version, "without --version, RUNBOOK_VERSION")
}
