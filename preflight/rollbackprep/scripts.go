package rollbackprep

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/rollback"
)

func (it *item) scriptsPrepared(ctx context.Context, r *flow.Recorder) error {
	var problems []error
	if w := it.tgt.Webhook; w == nil || w.URL.IsZero() {
		problems = append(problems, fmt.Errorf("no team channel (webhook.urlEnv in %s): the procedure's Step 1 \"ROLLBACK IN PROGRESS\" and Step 7 \"ROLLBACK COMPLETE\" have nowhere to go", it.tgt.File))
	}
	dir := it.c.runDir
	if dir == "" {
		// No run folder: the dry run plans from the current state.
		tmp, err := os.MkdirTemp("", "rollbackprep-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	r.Logf("rollback dry run (make rollback DRY_RUN=1) from the run folder %s; its plan, with every step's manual command, is printed below", dir)
	if err := rollback.DryRun(ctx, it.tgt, dir); err != nil {
		problems = append(problems, fmt.Errorf("the rollback's dry run fails: %w", err))
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	checklist.Evidence(r, "the rollback's dry run plans all 7 steps (verified backup, previous images, manual commands printed); team channel %s configured", it.tgt.Webhook.Channel)
	return nil
}
