package deploy

import (
	"strings"

	"github.com/granter/runbook/internal/confirm"
	"github.com/granter/runbook/internal/target"
)

// Prompt lets a person at a terminal confirm (confirm.Prompt).
type Prompt = confirm.Prompt

// Confirmation is how a change was confirmed (confirm.Confirmation).
type Confirmation = confirm.Confirmation

// CheckConfirm refuses steps that change a target that has a confirmation
// word unless given is that word (an *exitcode.Refusal, exit code 8). Dry
// runs need no confirmation. It is Confirmation{Given: given}.Check
// without a prompt.
func CheckConfirm(tgt *target.Target, given string, steps []Step) error {
	return checkConfirm(tgt, Confirmation{Given: given}, "", steps)
}

func checkConfirm(tgt *target.Target, c Confirmation, version string, steps []Step) error {
	var need []string
	for _, s := range steps {
		if s.Changes != ChangesNothing {
			need = append(need, s.Label())
		}
	}
	if len(need) == 0 {
		return nil
	}
	return c.Check(tgt, version, strings.Join(need, ", "))
}
