package report

import (
	"fmt"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
)

func evalHealth(a acc, r *Run) {
	for _, e := range r.entries(func(e journal.Entry) bool { return e.Step == "3.3" || e.Step == "4.3" }) {
		txt := entryText(e)
		if u := e.Data["url"]; u != "" {
			txt += fmt.Sprintf(" (%s → %s)", u, e.Data["status"])
		}
		a.add(entryState(e), entrySource(e), "%s", txt)
	}
	testEvidence(a, r, "smoke", phase4.Health.Test, true)
	testEvidence(a, r, "postdeploy", phase4.HealthChecks.Test, true)
	a.finish("smoke TestHealth, postdeploy TestHealthChecks, or journal Steps 3.3 / 4.3")
}

func evalSmoke(a acc, r *Run) {
	if r.Gate("smoke") == nil {
		a.finish("smoke.json: the go-test JSON of the smoke gate (Step 4.1)")
		return
	}
	for _, name := range phase4.FlowTests() {
		if !testEvidence(a, r, "smoke", name, true) {
			a.add(NotEvaluated, "smoke: "+name, "did not run (not in smoke.json)")
		}
	}
	a.finish("")
}

func evalAuth(a acc, r *Run) {
	found := false
	for _, name := range []string{phase4.Auth.Test + "/register", phase4.Auth.Test + "/login"} {
		if testEvidence(a, r, "smoke", name, false) {
			found = true
		} else if r.Gate("smoke") != nil {
			a.add(NotEvaluated, "smoke: "+name, "did not run (not in smoke.json)")
		}
	}
	if !found {
		a.c.Evidence = nil
	}
	a.finish("smoke TestAuth/register and TestAuth/login (smoke.json)")
}

func evalEndpoints(a acc, r *Run) {
	for _, e := range r.entries(func(e journal.Entry) bool { return e.Step == "4.4" }) {
		txt := entryText(e)
		if ep := e.Data["endpoints"]; ep != "" {
			txt += ": " + ep
		}
		a.add(entryState(e), entrySource(e), "%s", txt)
	}
	testEvidence(a, r, "postdeploy", phase4.CriticalEndpoints.Test, true)
	a.finish("postdeploy TestCriticalEndpoints or journal Step 4.4 (Data endpoints)")
}
