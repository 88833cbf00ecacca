package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/postdeploy"
	"github.com/granter/runbook/smoke"
)

// InProcessPhase4 is Phase 4 run in this process: Step 4.1's five smoke
// flows (smoke.RunAll), then every postdeploy check as its own step (4.2
// logs and SQL errors, 4.3 health, 4.4 spot checks, 4.5 error rate and
// critical alerts). The checks look at what happened after Phase 3 ended.
// Every flow and check is also written into the run folder as go test
// would have recorded it (smoke.json, smoke.retry.json, postdeploy.json
// and their .junit.xml: State.Evidence), for the go-live report and CI.
func InProcessPhase4(tgt *target.Target, o smoke.Options) []Step {
	steps := []Step{{
		Phase: journal.Phase4, ID: phase4.SmokeStep, Title: phase4.SmokeTitle,
		Manual: phase4.SmokeCommand() + "   (as written in the runbook: npm run test:smoke)",
		Would:  "run the five smoke flows: " + strings.Join(phase4.FlowNames(), ", "),
		Class:  exitcode.Smoke, Timeout: flow.DefaultTimeout,
		Run: func(ctx context.Context, s *State, r *Record) error {
			results := smoke.RunAll(ctx, s.Target, o)
			if ctx.Err() != nil {
				// Interrupted or out of time: no flow reached a verdict of
				// its own, so none is journaled as broken (the rollback
				// rule must not read the runbook's side as the release's).
				return fmt.Errorf("the smoke flows did not finish: %w", context.Cause(ctx))
			}
			if err := s.smokeEvidence("smoke", results...); err != nil {
				return err
			}
			var flows, failed, flaky []string
			for _, res := range results {
				for _, st := range res.Steps {
					switch st.Status {
					case flow.Skipped:
						r.Logf("⚠ %s/%s skipped: %v", res.Flow, st.Name, st.Err)
					case flow.NotApplicable:
						r.Logf("%s/%s: %v", res.Flow, st.Name, st.Err)
					}
				}
				status := "passed"
				if res.Failed() {
					// Failing twice is broken; passing on an immediate retry
					// is intermittent, which Step 4.5's error rate judges.
					r.Logf("%s failed: running it again at once (%v)", res.Flow, res.Err())
					status = "flaky"
					again := retryFlow(ctx, s.Target, o, res.Flow)
					if ctx.Err() != nil {
						return fmt.Errorf("the smoke flows did not finish (retrying %s): %w", res.Flow, context.Cause(ctx))
					}
					if again != nil {
						if err := s.smokeEvidence("smoke.retry", *again); err != nil {
							return err
						}
					}
					if again == nil || again.Failed() {
						status = "failed"
						why := res.Err().Error()
						if again != nil {
							why += "\n  and on the retry: " + again.Err().Error()
						}
						failed = append(failed, why)
					} else {
						flaky = append(flaky, res.Flow)
					}
				}
				flows = append(flows, fmt.Sprintf("%s %s", res.Flow, status))
			}
			r.Set(journal.KeySmokeFlows, strings.Join(flows, ", "))
			if len(failed) > 0 {
				return fmt.Errorf("smoke flows failed, and again on an immediate retry:\n  %s", strings.Join(failed, "\n  "))
			}
			if len(flaky) > 0 {
				r.Set(journal.KeySmokeFlaky, strings.Join(flaky, ", "))
				r.Logf("⚠ %s failed once and passed on an immediate retry", strings.Join(flaky, ", "))
			}
			r.Resultf("%s", strings.Join(flows, ", "))
			return nil
		},
	}}
	var checker *postdeploy.Checker
	for _, ch := range postdeploy.Checks() {
		steps = append(steps, Step{
			Phase: journal.Phase4, ID: ch.Step, Title: ch.Title, Manual: ch.Manual(tgt),
			Would: "run the postdeploy check " + ch.Test, Class: ch.Class, Timeout: postdeploy.CheckTimeout,
			Run: func(ctx context.Context, s *State, r *Record) error {
				if checker == nil {
					checker = postdeploy.NewChecker(s.Target, s.Phase3Ended)
					if s.kube != nil {
						checker.SetKube(s.kube)
					}
				}
				began := time.Now()
				ev, err := checker.Run(ctx, ch, func(line string) { r.Logf("%s", line) })
				if eerr := s.checkEvidence(ch, ev, err, time.Since(began)); eerr != nil {
					return errors.Join(err, eerr)
				}
				for k, v := range ev.Data {
					r.Set(k, v)
				}
				if err != nil {
					return fmt.Errorf("%s: %w", ch.Test, err)
				}
				r.Resultf("%s", ev.Summary)
				return nil
			},
		})
	}
	return steps
}

// retryFlow runs the named smoke flow once more; nil when there is none.
func retryFlow(ctx context.Context, tgt *target.Target, o smoke.Options, name string) *flow.Result {
	for _, f := range smoke.Flows(tgt, o) {
		if f.Name == name {
			res := flow.Run(ctx, f)
			return &res
		}
	}
	return nil
}
