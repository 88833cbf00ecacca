package rollback

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/granter/runbook/internal/journal"
)

// message is Steps 1 and 7 (and the failure message): a team message that
// does not stop the rollback when it fails.
func (r *runner) message(ctx context.Context, s PlannedStep, text string) {
	res := StepResult{N: s.N, Name: s.Name, Title: s.Title, Started: time.Now(), Status: journal.StatusOK}
	var err error
	switch {
	case r.team == nil:
		res.Status, err = journal.StatusSkipped, errors.New("the target has no team channel (webhook)")
	default:
		r.started(s, "send "+strconv.Quote(text))
		mctx, cancel := context.WithTimeout(ctx, NotifyTimeout)
		err = r.team.Send(mctx, text)
		cancel()
		if err != nil {
			// Not delivered: recorded as not done (skipped is never counted
			// as success), not as a failed rollback: the system is what
			// matters; the team must be told by other means.
			res.Status = journal.StatusSkipped
		}
	}
	res.Duration, res.Err = time.Since(res.Started), err
	r.res.Steps = append(r.res.Steps, res)
	e := journal.Entry{Phase: Phase, Step: strconv.Itoa(s.N), Action: s.Title + `: "` + text + `"`, Status: res.Status,
		Started: res.Started, Duration: res.Duration, Data: map[string]string{"message": text}}
	if s.N == 7 {
		e.Data["rollback.total"] = time.Since(r.res.Started).Round(time.Second).String()
		e.Data["rollback.budget"] = r.tgt.Thresholds.RollbackBudget.String()
		e.Data[journal.KeyVersion] = r.plan.To
	}
	if err != nil {
		e.Error = "team NOT notified: " + err.Error()
		r.warn("Step %d: the team was NOT notified (%v): tell them by other means: %q", s.N, err, text)
	} else {
		fmt.Fprintf(r.out, "rollback: Step %d: %s: sent %q\n", s.N, s.Title, text)
	}
	r.journal(e)
}
