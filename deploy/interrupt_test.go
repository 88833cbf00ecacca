package deploy_test

import (
	"bytes"
	"context"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/proc"
)

// A step interrupted by a signal (here SIGHUP: the SSH session closed)
// ends in a known state: its child is stopped, it fails with the signal
// as its cause, the journal keeps that failure, and no later step runs.
// Needs no platform (run with -tags=staging, where this package has no
// TestMain, to skip starting one).
func TestInterruptedStepIsJournaledFailed(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the step's child is a shell")
	}
	tg := localTarget(t)
	dir := t.TempDir()
	j, err := journal.Open(dir, deploy.RunName(dir), tg.Env, tg.Redact)
	require.NoError(t, err)
	ctx, interrupt := context.WithCancelCause(context.Background())
	defer interrupt(nil)
	started := make(chan struct{})
	laterRan := false
	steps := []deploy.Step{{
		Phase: journal.Phase2, ID: "2.1", Title: "Run Migrations (a migrator that runs until stopped)",
		Changes: deploy.ChangesDatabase, Class: exitcode.Deploy,
		Run: func(ctx context.Context, s *deploy.State, r *deploy.Record) error {
			cmd := proc.Command(ctx, "sh", "-c", "sleep 300 & wait")
			if err := cmd.Start(); err != nil {
				return err
			}
			close(started)
			return cmd.Wait()
		},
	}, {
		Phase: journal.Phase2, ID: "2.2", Title: "Verify Migrations", Class: exitcode.Deploy,
		Run: func(context.Context, *deploy.State, *deploy.Record) error { laterRan = true; return nil },
	}}
	go func() {
		<-started
		interrupt(proc.Interrupted{Signal: syscall.SIGHUP})
	}()
	var out bytes.Buffer
	oc := deploy.Run(ctx, tg, "v2.0.0", steps, deploy.Options{Out: &out, Journal: j, RunDir: dir})
	require.NoError(t, j.Close())
	t.Log("\n" + out.String())

	want := "interrupted by " + proc.Describe(syscall.SIGHUP)
	require.NotNil(t, oc.Failed, "the interrupted step must fail, not pass")
	assert.Equal(t, "2.1", oc.Failed.Step.ID)
	assert.ErrorContains(t, oc.Failed.Err, want)
	assert.Equal(t, exitcode.Deploy, oc.Code)
	assert.False(t, laterRan, "no step may run after the interrupted one")
	assert.Contains(t, out.String(), "❌ FAILED")

	entries, err := journal.Read(dir)
	require.NoError(t, err)
	var got []journal.Entry
	for _, e := range entries {
		if e.Step == "2.1" {
			got = append(got, e)
		}
		assert.NotEqual(t, "2.2", e.Step, "the step after the interruption is journaled: %+v", e)
	}
	require.NotEmpty(t, got, "Step 2.1 journaled; journal: %+v", entries)
	last := got[len(got)-1]
	assert.Equal(t, journal.StatusFailed, last.Status, "Step 2.1's last entry: %+v", last)
	assert.Contains(t, last.Error, want, "Step 2.1's journaled error names the interruption")
}

// Interrupted between two steps (a step that ignores its context returned
// after the signal): the next step does not start, and the journal says
// where the run stopped and why.
func TestInterruptedBetweenStepsIsJournaled(t *testing.T) {
	tg := localTarget(t)
	dir := t.TempDir()
	j, err := journal.Open(dir, deploy.RunName(dir), tg.Env, tg.Redact)
	require.NoError(t, err)
	ctx, interrupt := context.WithCancelCause(context.Background())
	defer interrupt(nil)
	laterRan := false
	steps := []deploy.Step{{
		Phase: journal.Phase1, ID: "1.2", Title: "Notify Operations Team", Class: exitcode.Deploy,
		Run: func(context.Context, *deploy.State, *deploy.Record) error {
			interrupt(proc.Interrupted{Signal: syscall.SIGHUP})
			return nil // done before it noticed
		},
	}, {
		Phase: journal.Phase1, ID: "1.3", Title: "Drain Existing Connections", Class: exitcode.Deploy,
		Run: func(context.Context, *deploy.State, *deploy.Record) error { laterRan = true; return nil },
	}}
	var out bytes.Buffer
	oc := deploy.Run(ctx, tg, "v2.0.0", steps, deploy.Options{Out: &out, Journal: j, RunDir: dir})
	require.NoError(t, j.Close())
	assert.False(t, laterRan, "no step may start after an interruption")
	require.NotNil(t, oc.Failed)
	assert.Equal(t, "1.3", oc.Failed.Step.ID)
	assert.ErrorContains(t, oc.Failed.Err, "not started: interrupted by "+proc.Describe(syscall.SIGHUP))
	entries, err := journal.Read(dir)
	require.NoError(t, err)
	last := entries[len(entries)-1]
	assert.Equal(t, "1.3", last.Step)
	assert.Equal(t, journal.StatusFailed, last.Status)
	assert.Contains(t, last.Error, "not started")
}
