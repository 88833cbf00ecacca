package rollbackprep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/target"
)

// drill reads the rollback drill record of VERSION.
func (it *item) drill() (checklist.RollbackRecord, string, error) {
	var rec checklist.RollbackRecord
	if it.tgt.Version == "" {
		return rec, "", fmt.Errorf("no VERSION given: run make preflight VERSION=v2.0.0 (or set %s)", target.VersionEnv)
	}
	if it.tgt.Staging.RollbackRecord == "" {
		return rec, "", fmt.Errorf("nowhere to read the staging rollback drill: set staging.rollbackRecord in %s", it.tgt.File)
	}
	path := it.tgt.Staging.RollbackRecordFor(it.tgt.Version)
	if err := checklist.ReadJSON(path, &rec); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return rec, path, fmt.Errorf("no record of a rollback drill of %s on staging (%s not found): deploy %s to staging, run `make rollback ENV=staging CONFIRM=staging` and record it there",
				it.tgt.Version, path, it.tgt.Version)
		}
		return rec, path, err
	}
	return rec, path, nil
}

func (it *item) testedOnStaging(ctx context.Context, r *flow.Recorder) error {
	rec, path, err := it.drill()
	if err != nil {
		return err
	}
	r.Logf("%s: %s -> %s on %s, result %s, ended %s, took %s", path, rec.Version, rec.To, rec.Env, rec.Result, rec.At.Format(time.RFC3339), rec.Duration)
	if err := rec.Check("staging", it.tgt.Version, it.tgt.Staging.RollbackMaxAge, it.c.now()); err != nil {
		return fmt.Errorf("the rollback drill recorded in %s does not count: %w", path, err)
	}
	checklist.Evidence(r, "rolled back %s -> %s on staging at %s in %s: %s (%s)", rec.Version, rec.To, rec.At.Local().Format("2006-01-02 15:04 MST"),
		rec.Duration.Round(time.Second), rec.Result, path)
	return nil
}
