//go:build !staging && !prod

package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/rollback"
)

// A run that stopped after changing the images prints, as its next line,
// the rollback of that very run folder (RUN=<folder>), never a bare `make
// rollback` that would pick a folder by itself.
func TestNextRollbackNamesTheRun(t *testing.T) {
	t.Setenv("RUNBOOK_LOCAL_TARGET", "")
	tgt, code := loadTarget(context.Background(), &bytes.Buffer{})
	require.NotNil(t, tgt, "exit %d", code)
	dir := t.TempDir()
	backupIn(t, tgt, dir, true)
	setImage := deploy.Step{Phase: journal.Phase3, ID: "3.1", Title: "Deploy backend-core: set image", Changes: deploy.ChangesImages,
		Run: func(_ context.Context, _ *deploy.State, r *deploy.Record) error {
			r.Set(journal.KeyDeployment, "backend-core")
			r.Set(journal.KeyImageBefore, "granter/backend-core:v1.9.0")
			r.Set(journal.KeyImageAfter, "granter/backend-core:v2.0.0")
			return errors.New("restoring the replicas: conflict")
		}}

	var out, errOut bytes.Buffer
	runSteps(context.Background(), tgt, runFlags{runDir: dir, version: "v2.0.0"}, []deploy.Step{setImage}, &out, &errOut)
	assert.Contains(t, out.String(), "next:    "+rollback.Command(tgt, dir)+"\n", "stderr: %s", errOut.String())
	assert.Contains(t, out.String(), " RUN="+dir)
}

// The watch, given no RUN, journals into the newest deployment run, not a
// later preflight folder: the rollback it prints or runs undoes that
// deployment.
func TestMonitorWatchesTheNewestDeployment(t *testing.T) {
	root := t.TempDir()
	add := func(name string, e journal.Entry) string {
		dir := filepath.Join(root, name)
		j, err := journal.Open(dir, name, "local", nil)
		require.NoError(t, err)
		require.NoError(t, j.Add(e))
		require.NoError(t, j.Close())
		return dir
	}
	deployed := add("20260303-140000-local", journal.Entry{Phase: journal.Phase1, Step: "1.1", Status: journal.StatusOK,
		Data: map[string]string{journal.KeyBackupFile: "/backups/a.dump", journal.KeyBackupSHA256: "abc", journal.KeyVersion: "v2.0.0"}})
	add("20260303-150000-local", journal.Entry{Phase: journal.Preflight, Step: "1", Status: journal.StatusOK,
		Data: map[string]string{"file": "/backups/b.dump", "sha256": "def"}})

	dir, why := rbNewestRun(root, "local")
	assert.Equal(t, deployed, dir, "the deployment run, not the newer preflight folder")
	assert.Contains(t, why, "the newest deployment run of local")
}
