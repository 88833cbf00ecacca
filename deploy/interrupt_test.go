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
