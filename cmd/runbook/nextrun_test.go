//go:build !staging && !prod

package main

import (
	"bytes"
	"context"
	"errors"
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
	tgt, code := loadTarget(&bytes.Buffer{})
	require.NotNil(t, tgt, "exit %d", code)
	dir := t.TempDir()
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
