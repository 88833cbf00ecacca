package rollback

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/granter/runbook/smoke"
)

// smoke is Step 6: the five flows of Step 4.1 against the previous version.
// Every /health answer is held to the version the rollback restored, not
// the release being rolled back (RUNBOOK_VERSION): a service still on the
// release fails the step.
func (r *runner) smoke(ctx context.Context) ([]map[string]string, error) {
	tgt := *r.tgt
	tgt.Version = r.plan.restoredVersion()
	results := smoke.RunAll(ctx, &tgt, r.opts.Smoke)
	r.res.Smoke = results
	d := map[string]string{}
	var errs []error
	for _, res := range results {
		status := "passed"
		if err := res.Err(); err != nil {
			status = "failed"
			errs = append(errs, err)
		}
		d["smoke."+res.Flow] = status
		fmt.Fprintf(r.out, "rollback: smoke %s: %s in %s\n", res.Flow, status, res.Duration.Round(time.Millisecond))
	}
	return []map[string]string{d}, errors.Join(errs...)
}
