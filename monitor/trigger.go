package monitor

import (
	"fmt"
	"math"
	"strings"

	"github.com/granter/runbook/internal/stats"
	"github.com/granter/runbook/internal/target"
)

// Decision is the runbook's rollback rule applied to what was seen:
// "⛔ Only if critical issues (> 1% error rate or core functionality
// broken)".
type Decision struct {
	Rollback bool
	// Reason says which half of the rule fired, with the value and the
	// threshold, or why it did not.
	Reason string
	// Inconclusive lists the gates that failed on the runbook's own side
	// (journal.KeyInconclusive: interrupted, nothing reachable): they
	// never trigger a rollback; when nothing else does, a person decides.
	Inconclusive []string
}

// Decide applies the rule to the evidence: the error-rate half fires only
// when errors out of requests show, at 95% confidence, a rate above
// th.RollbackErrorRate (the lower bound is over it: 30 in 1,000 fires, 6 in
// 1,000 does not; requests 0 or NaN is "not measured"); the other half
// when any core flow is broken (the names of the failed flows: auth,
// search, ...). The postdeploy gate and the watch both use it.
func Decide(errors, requests float64, broken []string, th target.Thresholds) Decision {
	var why []string
	measured := requests > 0 && !math.IsNaN(requests) && !math.IsNaN(errors)
	var over stats.Result
	if measured {
		over = stats.OverThreshold(errors, requests, th.RollbackErrorRate)
		if over.Verdict == stats.Met {
			why = append(why, over.String())
		}
	}
	if len(broken) > 0 {
		why = append(why, "core functionality broken: "+strings.Join(broken, ", "))
	}
	if len(why) > 0 {
		return Decision{Rollback: true, Reason: "rollback trigger met: " + strings.Join(why, "; ")}
	}
	er := "error rate not measured"
	if measured {
		er = over.String()
	}
	return Decision{Reason: fmt.Sprintf("rollback trigger not met: %s (trigger: error rate > %s on its 95%% lower bound), no core flow broken", er, pct(th.RollbackErrorRate))}
}

// ShouldRollback applies Decide to one round's checks: the error rate
// measured, and the light smoke flows (logins, search) that failed. Other
// breaches (p95, CPU, ...) fail the watch but are not the runbook's
// rollback trigger: they call for a look, and the on-call decides.
func ShouldRollback(checks []Check, th target.Thresholds) Decision {
	errs, reqs := math.NaN(), math.NaN()
	var broken []string
	for _, c := range checks {
		switch {
		case c.Key == keyErrorRate && c.Rate != nil:
			errs, reqs = c.Rate.Errors, c.Rate.Total
		case strings.HasPrefix(c.Key, keySmoke) && c.Status == Breach:
			broken = append(broken, strings.TrimPrefix(c.Key, keySmoke))
		}
	}
	return Decide(errs, reqs, broken, th)
}
