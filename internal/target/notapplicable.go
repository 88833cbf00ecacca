package target

import (
	"fmt"
	"slices"
	"strings"

	"github.com/granter/runbook/internal/phase4"
)

// NotApplicable is a step a target's file declares cannot run on it
// (notApplicable: in environments/<env>.yaml).
type NotApplicable struct {
	Step              string // the go test step: TestIA/fallback_when_provider_fails
	Reason            string // why it cannot run here
	VerifiedElsewhere string // where what it proves is verified instead
	File              string // the file that declares it
	Env               string
}

// String is how every report shows it.
func (n NotApplicable) String() string {
	return fmt.Sprintf("NOT APPLICABLE on %s (declared in %s): %s; verified elsewhere: %s", n.Env, n.File, n.Reason, n.VerifiedElsewhere)
}

// NotApplicableStep returns the declaration of step (TestIA/fallback_when_provider_fails), if any.
func (t *Target) NotApplicableStep(step string) (NotApplicable, bool) {
	for _, n := range t.NotApplicable {
		if n.Step == step {
			return n, true
		}
	}
	return NotApplicable{}, false
}

func (v *validator) notApplicable(list []fileNotApplicable, env string) []NotApplicable {
	var out []NotApplicable
	for i, f := range list {
		key := fmt.Sprintf("notApplicable[%d]", i)
		switch {
		case !slices.Contains(phase4.Declarable, f.Step):
			v.fail(key+".step", "%s", fmt.Sprintf("%q cannot be declared not applicable: only steps that must break something on the target can (%s); every other step runs everywhere", f.Step, strings.Join(phase4.Declarable, ", ")))
			continue
		case strings.TrimSpace(f.Reason) == "":
			v.fail(key+".reason", "%s", "missing: say why "+f.Step+" cannot run on this target")
			continue
		case strings.TrimSpace(f.VerifiedElsewhere) == "":
			v.fail(key+".verifiedElsewhere", "%s", "missing: say where what "+f.Step+" proves is verified instead")
			continue
		}
		for _, prev := range out {
			if prev.Step == f.Step {
				v.fail(key+".step", "%s is declared twice", f.Step)
			}
		}
		out = append(out, NotApplicable{Step: f.Step, Reason: strings.TrimSpace(f.Reason), VerifiedElsewhere: strings.TrimSpace(f.VerifiedElsewhere), File: v.file, Env: env})
	}
	return out
}

// NotApplicableIn is flow.Flow's NotApplicable for the flow run by the go
// test flowTest (TestIA): its steps declared in the target's file.
func (t *Target) NotApplicableIn(flowTest string) func(step string) (string, bool) {
	return func(step string) (string, bool) {
		n, ok := t.NotApplicableStep(flowTest + "/" + step)
		return n.String(), ok
	}
}
