package deploy

import (
	"fmt"
	"strings"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/target"
)

// refusal is the reason a run that needs the target's confirmation word
// was refused.
func refusal(env, word, given string, steps []string) error {
	g := "no confirmation was given"
	if given != "" {
		g = fmt.Sprintf("--confirm=%s does not match", given)
	}
	return exitcode.Refuse("", fmt.Sprintf("%s would change %s and %s; nothing was touched. Run again with CONFIRM=%s (or --confirm=%s), or with --dry-run to see the plan",
		strings.Join(steps, ", "), env, g, word, word))
}

// CheckConfirm refuses steps that change a target that has a confirmation
// word unless given is that word (an *exitcode.Refusal, exit code 8). Dry
// runs need no confirmation.
func CheckConfirm(tgt *target.Target, given string, steps []Step) error {
	if tgt.Confirm == "" || given == tgt.Confirm {
		return nil
	}
	var need []string
	for _, s := range steps {
		if s.Changes != ChangesNothing {
			need = append(need, s.Label())
		}
	}
	if len(need) == 0 {
		return nil
	}
	return refusal(tgt.Env, tgt.Confirm, given, need)
}
