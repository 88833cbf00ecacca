package monitor

import (
	"fmt"
	"math"
	"strings"

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
}

// Decide applies the rule: errorRate (a ratio; NaN when not measured) above
// th.RollbackErrorRate, or any core flow broken (the names of the failed
// flows: auth, search, ...). The postdeploy gate and the watch both use it.
func Decide(errorRate float64, broken []string, th target.Thresholds) Decision {
	var why []string
	if !math.IsNaN(errorRate) && errorRate > th.RollbackErrorRate {
		why = append(why, fmt.Sprintf("error rate %s > %s", pct(errorRate), pct(th.RollbackErrorRate)))
	}
	if len(broken) > 0 {
		why = append(why, "core functionality broken: "+strings.Join(broken, ", "))
	}
	if len(why) > 0 {
		return Decision{Rollback: true, Reason: "rollback trigger met: " + strings.Join(why, "; ")}
	}
	er := "not measured"
	if !math.IsNaN(errorRate) {
		er = pct(errorRate)
	}
	return Decision{Reason: fmt.Sprintf("rollback trigger not met: error rate %s (trigger > %s), no core flow broken", er, pct(th.RollbackErrorRate))}
}

// ShouldRollback applies Decide to one round's checks: the error rate
// measured, and the light smoke flows (logins, search) that failed. Other
// breaches (p95, CPU, ...) fail the watch but are not the runbook's
// rollback trigger: they call for a look, and the on-call decides.
func ShouldRollback(checks []Check, th target.Thresholds) Decision {
	rate := math.NaN()
	var broken []string
	for _, c := range checks {
		switch {
		case c.Key == keyErrorRate && (c.Status == Pass || c.Status == Breach):
			rate = c.Value
		case strings.HasPrefix(c.Key, keySmoke) && c.Status == Breach:
			broken = append(broken, strings.TrimPrefix(c.Key, keySmoke))
		}
	}
	return Decide(rate, broken, th)
}
