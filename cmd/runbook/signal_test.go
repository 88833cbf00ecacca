//go:build staging || prod

package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/proc"
	"github.com/granter/runbook/internal/target"
)

// A closed SSH session (SIGHUP) during a step does not kill the runbook:
// it says which signal arrived, the step fails with it, the journal keeps
// that, and the exit code is the step's. The step is Step 1.2, posting to
// a team channel that accepts the connection and never answers.
func TestSIGHUPDuringAStepIsJournaled(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "runbook")
	build := exec.Command("go", "build", "-tags="+target.Env, "-o", bin, ".")
	b, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", b)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	connected := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			connected <- c // held open, never answered
		}
	}()

	env := strings.ToUpper(target.Env)
	dir := t.TempDir()
	cmd := exec.Command(bin, "notify", "--version=v2.0.0", "--run-dir="+dir, "--confirm="+target.Env)
	cmd.Env = append(os.Environ(),
		"RUNBOOK_"+env+"_DATABASE_URL=postgres://granter:"+planted+"@127.0.0.1:9/granter_db",
		"RUNBOOK_"+env+"_WEBHOOK_URL=http://"+ln.Addr().String()+"/hooks/"+planted, "CONFIRM=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	select {
	case c := <-connected:
		defer c.Close()
	case <-time.After(time.Minute):
		t.Fatalf("runbook notify never reached the team channel's webhook in a minute\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	err = cmd.Wait()
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	require.False(t, cmd.ProcessState.Sys().(syscall.WaitStatus).Signaled(), "runbook killed by the signal: %s", cmd.ProcessState)
	assert.Equal(t, exitcode.Deploy, cmd.ProcessState.ExitCode(), "exit code of a failed Step 1.2 (%v)", err)
	hup := proc.Describe(syscall.SIGHUP)
	assert.Contains(t, stderr.String(), "runbook: "+hup+": bringing the current step to a known state")

	entries, err := journal.Read(dir)
	require.NoError(t, err)
	var found bool
	for _, e := range entries {
		if e.Step == "1.2" && e.Status == journal.StatusFailed {
			found = true
			assert.Contains(t, e.Error, "interrupted by "+hup, "Step 1.2's journaled error")
			assert.NotContains(t, e.Error, planted)
		}
	}
	assert.True(t, found, "Step 1.2 journaled as failed; journal: %+v", entries)
}
