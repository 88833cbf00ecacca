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
	"github.com/granter/runbook/internal/retry"
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
				return inconclusive(r, fmt.Errorf("the smoke flows did not finish: %w", context.Cause(ctx)))
			}
			if err := s.smokeEvidence("smoke", results...); err != nil {
				return err
			}
			type judged struct {
				name, status, why string
				runbookSide       bool
			}
			var all []judged
			answered := false // some flow passed, or failed on an answer from the platform
			var flaky []string
			for _, res := range results {
				for _, st := range res.Steps {
					switch st.Status {
					case flow.Skipped:
						r.Logf("⚠ %s/%s skipped: %v", res.Flow, st.Name, st.Err)
					case flow.NotApplicable:
						r.Logf("%s/%s: %v", res.Flow, st.Name, st.Err)
					}
				}
				j := judged{name: res.Flow, status: "passed"}
				if res.Failed() {
					// Failing twice is broken; passing on an immediate retry
					// is intermittent, which Step 4.5's error rate judges.
					r.Logf("%s failed: running it again at once (%v)", res.Flow, res.Err())
					j.status = "flaky"
					again := retryFlow(ctx, s.Target, o, res.Flow)
					if ctx.Err() != nil {
						return inconclusive(r, fmt.Errorf("the smoke flows did not finish (retrying %s): %w", res.Flow, context.Cause(ctx)))
					}
					if again != nil {
						if err := s.smokeEvidence("smoke.retry", *again); err != nil {
							return err
						}
					}
					if again == nil || again.Failed() {
						j.status, j.why = "failed", res.Err().Error()
						j.runbookSide = retry.RunbookSide(res.Err())
						if again != nil {
							j.why += "\n  and on the retry: " + again.Err().Error()
							j.runbookSide = j.runbookSide && retry.RunbookSide(again.Err())
						}
					} else {
						flaky = append(flaky, res.Flow)
					}
				}
				if !j.runbookSide {
					answered = true
				}
				all = append(all, j)
			}
			var flows, failed, unreached []string
			for _, j := range all {
				if j.status == "failed" && j.runbookSide && !answered {
					// Nothing answered any flow: the runbook's host, not
					// the release (its network, DNS, the target's TLS).
					j.status = "unreached"
					unreached = append(unreached, j.why)
				} else if j.status == "failed" {
					failed = append(failed, j.why)
				}
				flows = append(flows, fmt.Sprintf("%s %s", j.name, j.status))
			}
			r.Set(journal.KeySmokeFlows, strings.Join(flows, ", "))
			if len(failed) > 0 {
				return fmt.Errorf("smoke flows failed, and again on an immediate retry:\n  %s", strings.Join(failed, "\n  "))
			}
			if len(unreached) > 0 {
				return inconclusive(r, fmt.Errorf("no smoke flow reached the platform (every request failed before an answer), twice:\n  %s", strings.Join(unreached, "\n  ")))
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
				var ev *postdeploy.Evidence
				runs := 0
				run := func(ctx context.Context) error {
					if runs++; runs > 1 {
						r.Logf("%s failed: running it again at once", ch.Test)
					}
					var err error
					ev, err = checker.Run(ctx, ch, func(line string) { r.Logf("%s", line) })
					return err
				}
				var res retry.Retried
				if ch.Core {
					res = retry.Once(ctx, run)
				} else if err := run(ctx); err != nil {
					res = retry.Retried{Verdict: retry.Broken, First: err}
					if ctx.Err() != nil {
						res.Verdict = retry.Inconclusive
					}
				}
				// The evidence file holds the check's verdict once retried
				// (a flaky check passed; the journal says it was flaky).
				if eerr := s.checkEvidence(ch, ev, res.Err(), time.Since(began)); eerr != nil {
					return errors.Join(res.Err(), eerr)
				}
				for k, v := range ev.Data {
					r.Set(k, v)
				}
				switch res.Verdict {
				case retry.Flaky:
					r.Set(journal.KeyCheckFlaky, ch.Test)
					r.Logf("⚠ %s failed once and passed on an immediate retry (intermittent: Step 4.5's error rate judges it): %s", ch.Test, firstLine(res.First.Error()))
				case retry.Inconclusive:
					return inconclusive(r, fmt.Errorf("%s: %w", ch.Test, res.Err()))
				case retry.Broken:
					if ch.Core {
						r.Set(journal.KeyCoreBroken, ch.Title+": "+firstLine(res.First.Error()))
						return fmt.Errorf("%s failed, and again on an immediate retry (core functionality broken): %w", ch.Test, res.Err())
					}
					return fmt.Errorf("%s: %w", ch.Test, res.Err())
				}
				r.Resultf("%s", ev.Summary)
				return nil
			},
		})
	}
	return steps
}

// inconclusive marks the step as failed on the runbook's side: no
// verdict on the release (exit code Inconclusive), never a rollback; the
// journal says why (journal.KeyInconclusive).
func inconclusive(r *Record, err error) error {
	r.Set(journal.KeyClass, exitcode.Class(exitcode.Inconclusive))
	r.Set(journal.KeyInconclusive, firstLine(err.Error()))
	return fmt.Errorf("INCONCLUSIVE (the runbook's side, not the release's): %w", err)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
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
