package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/target"
)

// --help lists every subcommand the runbook has, each once.
func TestHelpListsEverySubcommand(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, exitcode.OK, dispatch(context.Background(), []string{"--help"}, &out, &errOut), errOut.String())
	for _, want := range []string{"preflight", "checklist", "deploy", "backup", "notify", "drain", "migrate", "rollout",
		"smoke", "postdeploy", "monitor", "rollback", "report", "local", "completion"} {
		assert.Regexp(t, `(?m)^  `+want+` +\S`, out.String(), "runbook --help does not list %s", want)
	}
}

// Shell completion for the three shells.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_runbook", "zsh": "#compdef runbook", "fish": "complete -c runbook"} {
		var out, errOut bytes.Buffer
		require.Equal(t, exitcode.OK, dispatch(context.Background(), []string{"completion", shell}, &out, &errOut), errOut.String())
		assert.Contains(t, out.String(), want, "runbook completion %s", shell)
	}
}

// Flags after the positional argument are flags (the standard flag
// package would have taken them as more arguments).
func TestFlagsAfterTheRunFolder(t *testing.T) {
	run := t.TempDir()
	j, err := journal.Open(run, "cli", "local", nil)
	require.NoError(t, err)
	require.NoError(t, j.Add(journal.Entry{Phase: journal.Preflight, Step: "checklist", Action: "test", Status: journal.StatusOK}))
	require.NoError(t, j.Close())
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	code := dispatch(context.Background(), []string{"report", run, "--out", out}, &stdout, &stderr)
	assert.NotEqual(t, exitcode.Config, code, "report RUN --out X must parse: %s", stderr.String())
	_, err = os.Stat(filepath.Join(out, "report.md"))
	require.NoError(t, err, "runbook report RUN --out X wrote no report.md into X: stdout %s stderr %s", stdout.String(), stderr.String())
	// --run is the run folder too.
	stdout.Reset()
	stderr.Reset()
	out2 := filepath.Join(t.TempDir(), "out2")
	dispatch(context.Background(), []string{"report", "--out", out2, "--run", run}, &stdout, &stderr)
	_, err = os.Stat(filepath.Join(out2, "report.md"))
	require.NoError(t, err, "runbook report --run RUN: %s", stderr.String())
}

// --env names the build: another environment is refused before anything
// runs; the kube flags override the environment file's.
func TestGlobalFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	other := "prod"
	if target.Env == "prod" {
		other = "local"
	}
	assert.Equal(t, exitcode.Config, dispatch(context.Background(), []string{"deploy", "--dry-run", "--env", other}, &out, &errOut))
	assert.Contains(t, errOut.String(), "this binary is built for "+target.Env)

	g, rest, err := takeGlobals([]string{"rollout", "-n", "granter-2", "--context=ctx", "--run", "runs/x", "--kubeconfig", "/k", "--dry-run"}, nil, false)
	require.NoError(t, err)
	assert.Equal(t, globals{kubeconfig: "/k", context: "ctx", namespace: "granter-2"}, g)
	assert.Equal(t, []string{"rollout", "--run-dir=runs/x", "--dry-run"}, rest)
	tgt := &target.Target{Kube: &target.Kube{Namespace: "granter", Context: "a"}}
	require.NoError(t, g.apply(tgt))
	assert.Equal(t, target.Kube{Kubeconfig: "/k", Context: "ctx", Namespace: "granter-2"}, *tgt.Kube)
	assert.Error(t, g.apply(&target.Target{}), "kube flags on a target without a cluster")
	_, rest, err = takeGlobals([]string{"--env", "staging", "-in", "x"}, []string{"env"}, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"--env", "staging", "-in", "x"}, rest, "a command's own --env is left to it")
	assert.True(t, strings.HasPrefix(rest[0], "--"))
}
