//go:build !staging && !prod

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/target"
)

// backupIn journals into runDir a Step 1.1 that took a backup of the
// target's database (a small file with its manifest), verified or not.
func backupIn(t *testing.T, tgt *target.Target, runDir string, verified bool) pgbackup.Backup {
	t.Helper()
	require.NotNil(t, tgt.Database)
	db := tgt.Database.Name
	path := filepath.Join(t.TempDir(), pgbackup.FileName(time.Now()))
	require.NoError(t, os.WriteFile(path, []byte("PGDMP: the dump"), 0o600))
	sum, size, err := pgbackup.FileSHA256(path)
	require.NoError(t, err)
	b := pgbackup.Backup{Path: path, SHA256: sum, Size: size, Taken: time.Now().UTC(), Database: db}
	if verified {
		b.Verified = &pgbackup.Verification{At: time.Now().UTC(), Scratch: db + "_verify"}
	}
	require.NoError(t, pgbackup.WriteManifest(b))
	j, err := journal.Open(runDir, filepath.Base(runDir), tgt.Env, tgt.Redact)
	require.NoError(t, err)
	defer j.Close()
	require.NoError(t, j.Add(journal.Entry{Phase: journal.Phase1, Step: "1.1", Action: "Final Database Backup", Status: journal.StatusOK,
		Data: map[string]string{journal.KeyBackupFile: path, journal.KeyBackupSHA256: sum, journal.KeyVersion: "v2.0.0"}}))
	return b
}

// `runbook migrate` and `runbook rollout` change the database and the
// images: without a verified backup in the run, the rollback would have
// nothing to restore, so they refuse (exit 8) before doing anything.
func TestMigrateAndRolloutNeedAVerifiedBackup(t *testing.T) {
	t.Setenv("RUNBOOK_LOCAL_TARGET", "")
	tgt, code := loadTarget(context.Background(), &bytes.Buffer{})
	require.NotNil(t, tgt, "exit %d", code)

	for _, action := range []string{"migrate", "rollout"} {
		t.Run(action+"_refused_without_a_backup_in_the_run", func(t *testing.T) {
			dir := t.TempDir()
			var out, errOut bytes.Buffer
			got := dispatch(context.Background(), []string{action, "--version=v2.0.0", "--run-dir=" + dir}, &out, &errOut)
			assert.Equal(t, exitcode.Refused, got, "%s\n%s", out.String(), errOut.String())
			assert.Contains(t, out.String(), "needs a verified backup in the run")
			assert.Contains(t, out.String(), "records no Step 1.1")
			assert.Contains(t, out.String(), "runbook backup --run-dir="+dir)
			assert.NotContains(t, out.String(), "▶ Step", "no step ran")
		})
	}

	ran := false
	setImage := deploy.Step{Phase: journal.Phase3, ID: "3.1", Title: "Deploy backend-core: set image", Changes: deploy.ChangesImages,
		Run: func(context.Context, *deploy.State, *deploy.Record) error { ran = true; return nil }}

	t.Run("refused_with_an_unverified_backup", func(t *testing.T) {
		dir := t.TempDir()
		b := backupIn(t, tgt, dir, false)
		var out, errOut bytes.Buffer
		got := runSteps(context.Background(), tgt, runFlags{runDir: dir, version: "v2.0.0"}, []deploy.Step{setImage}, &out, &errOut)
		assert.Equal(t, exitcode.Refused, got, out.String())
		assert.Contains(t, out.String(), "was never verified")
		assert.Contains(t, out.String(), b.Path)
		assert.False(t, ran, "the step must not run")
		entries, err := journal.Read(dir)
		require.NoError(t, err)
		last := entries[len(entries)-1]
		assert.Equal(t, journal.StatusFailed, last.Status, "the refusal is journaled")
		assert.Equal(t, exitcode.Class(exitcode.Refused), last.Data[journal.KeyClass])
	})

	t.Run("runs_with_a_verified_backup", func(t *testing.T) {
		dir := t.TempDir()
		backupIn(t, tgt, dir, true)
		var out, errOut bytes.Buffer
		got := runSteps(context.Background(), tgt, runFlags{runDir: dir, version: "v2.0.0"}, []deploy.Step{setImage}, &out, &errOut)
		assert.Equal(t, exitcode.OK, got, out.String())
		assert.True(t, ran, "the step ran")
	})
}
