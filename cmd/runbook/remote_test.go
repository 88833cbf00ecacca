//go:build staging || prod

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/target"
)

const planted = "planted-secret-5b1e"

func plantSecrets(t *testing.T) {
	t.Helper()
	env := strings.ToUpper(target.Env)
	t.Setenv("RUNBOOK_"+env+"_DATABASE_URL", "postgres://granter:"+planted+"@127.0.0.1:9/granter_db")
	t.Setenv("RUNBOOK_"+env+"_WEBHOOK_URL", "http://127.0.0.1:9/hooks/"+planted)
	t.Setenv("CONFIRM", "")
}

// Built for staging or prod, every action's --dry-run prints its plan
// from the real environment file, needs no confirmation and prints no
// secret.
func TestDryRunAgainstTheRealConfiguration(t *testing.T) {
	plantSecrets(t)
	for _, action := range []string{"deploy", "backup", "notify", "drain", "migrate", "rollout"} {
		t.Run(action, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := dispatch(context.Background(), []string{action, "--dry-run", "--version=v2.0.0", "--run-dir=" + t.TempDir()}, &out, &errOut)
			require.Equal(t, exitcode.OK, code, "%s\n%s", out.String(), errOut.String())
			assert.Contains(t, out.String(), "DRY RUN")
			assert.NotContains(t, out.String()+errOut.String(), planted)
		})
	}
}

// Without CONFIRM=<env> every action that changes the target refuses
// (exit 8) before touching anything.
func TestRefusesWithoutConfirmation(t *testing.T) {
	plantSecrets(t)
	for _, action := range []string{"deploy", "backup", "notify", "drain", "migrate", "rollout"} {
		t.Run(action, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := dispatch(context.Background(), []string{action, "--version=v2.0.0", "--run-dir=" + t.TempDir()}, &out, &errOut)
			assert.Equal(t, exitcode.Refused, code, "%s\n%s", out.String(), errOut.String())
			assert.Contains(t, out.String(), "CONFIRM="+target.Env)
			assert.NotContains(t, out.String()+errOut.String(), planted)
		})
	}
}

// CONFIRM exported in the shell is not a confirmation: it stays set for
// every later command. A changing action refuses (exit 8) and says how to
// confirm; the same word on the command line (--confirm, which make passes
// for a CONFIRM= on its own command line) lets it run.
func TestExportedConfirmIsNotEnough(t *testing.T) {
	plantSecrets(t)
	t.Setenv("CONFIRM", target.Env)
	var out, errOut bytes.Buffer
	code := dispatch(context.Background(), []string{"notify", "--version=v2.0.0", "--run-dir=" + t.TempDir()}, &out, &errOut)
	require.Equal(t, exitcode.Refused, code, "%s\n%s", out.String(), errOut.String())
	assert.Contains(t, out.String(), "CONFIRM="+target.Env+" is only exported in the environment")
	assert.Contains(t, out.String(), "--confirm="+target.Env)
	assert.Contains(t, out.String(), `type "`+target.Env+` v2.0.0"`)

	out.Reset()
	errOut.Reset()
	code = dispatch(context.Background(), []string{"notify", "--version=v2.0.0", "--confirm=" + target.Env, "--run-dir=" + t.TempDir()}, &out, &errOut)
	assert.NotEqual(t, exitcode.Refused, code, "--confirm=%s on the command line must be enough:\n%s\n%s", target.Env, out.String(), errOut.String())
	assert.Contains(t, out.String(), "Step 1.2", "the step ran (its webhook is unreachable here)")
}
