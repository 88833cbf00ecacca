package rollback

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/granter/runbook/internal/checklist"
)

// summary prints each step's time and the total against the runbook's
// estimate; on failure, how to recover by hand.
func (r *runner) summary(err error) {
	fmt.Fprintf(r.out, "rollback: step times:\n")
	for _, s := range r.res.Steps {
		fmt.Fprintf(r.out, "  Step %d %-10s %-8s %s\n", s.N, s.Name, s.Status, s.Duration.Round(time.Millisecond))
	}
	fmt.Fprintf(r.out, "rollback: total %s (the runbook's estimate: %s)\n", r.res.Total.Round(time.Millisecond), r.res.Budget)
	if r.res.Budget > 0 && r.res.Total > r.res.Budget {
		r.warn("the rollback took %s, longer than the runbook's estimate of %s: update checklist item 6's estimate", r.res.Total.Round(time.Second), r.res.Budget)
	}
	if err == nil {
		fmt.Fprintf(r.out, "rollback: COMPLETE: %s on %s, database restored from %s\n", r.tgt.Env, r.plan.To, filepath.Base(r.plan.Backup.Path))
		return
	}
	if r.team != nil {
		mctx, cancel := context.WithTimeout(context.Background(), NotifyTimeout)
		text := fmt.Sprintf("ROLLBACK FAILED on %s — %v — escalate now (Database Admin, Infrastructure Lead)", r.tgt.Env, err)
		if serr := r.team.Send(mctx, r.tgt.Redact(text)); serr != nil {
			r.warn("the team was NOT told the rollback failed (%v): call the escalation contacts", serr)
		}
		cancel()
	}
	fmt.Fprintf(r.out, "rollback: FAILED: %v\n", r.tgt.Redact(err.Error()))
	fmt.Fprintf(r.out, "rollback: what is true now: the steps above marked ok were done; the database is either the old one or the verified restored one (never half-restored).\n")
	fmt.Fprintf(r.out, "rollback: fix the cause and run it again (it resumes from the journal: the replicas recorded in Step 2 are kept), or finish by hand:\n")
	for _, s := range r.plan.Steps() {
		for _, m := range s.Manual {
			fmt.Fprintf(r.out, "    $ %s\n", m)
		}
	}
}

// record writes the checklist.RollbackRecord (checklist item 6 reads the
// staging one).
func (r *runner) record(err error) {
	if r.opts.RecordPath == "" {
		return
	}
	rec := checklist.RollbackRecord{Env: r.tgt.Env, Version: r.plan.From, To: r.plan.To, Result: checklist.RollbackSucceeded,
		At: time.Now().UTC(), Duration: r.res.Total, Steps: map[string]time.Duration{}}
	for _, s := range r.res.Steps {
		rec.Steps[s.Name] += s.Duration
	}
	if err != nil {
		rec.Result = "failed"
		rec.Problems = append(rec.Problems, r.tgt.Redact(err.Error()))
	}
	if werr := checklist.WriteJSON(r.opts.RecordPath, rec); werr != nil {
		r.warn("rollback record %s: %v", r.opts.RecordPath, werr)
		return
	}
	fmt.Fprintf(r.out, "rollback: record written to %s\n", r.opts.RecordPath)
}
