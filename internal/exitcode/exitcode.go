// Package exitcode is the runbook's contract with CI: one exit code per
// failure class, the same for the CLI and every make target, so a pipeline
// can branch on it (for example, start a rollback on Deploy or SLO).
//
// The table below is the only place a class is named: its code, the word a
// journal entry records in its "class" Data key (journal.KeyClass), and the
// words printed next to the code.
package exitcode

import "strings"

// The codes. They are documented in README.md; never renumber them.
const (
	OK        = 0 // the gate passed
	Internal  = 1 // a bug or an unexpected error in the runbook itself
	Config    = 2 // configuration: a setting is missing or malformed
	Preflight = 3 // a preflight checklist item is blocking
	Deploy    = 4 // a deploy step failed (backup, drain, migrate, rollout)
	Smoke     = 5 // a smoke flow failed
	SLO       = 6 // an SLO breach: error rate, latency, alerts, logs
	Rollback  = 7 // the rollback failed or could not be verified
	Refused   = 8 // refused: no confirmation for a destructive step, or no verified backup
	// Inconclusive: a Phase 4 gate failed on the runbook's own side (it was
	// interrupted, or could reach nothing at all): no verdict on the
	// release, never an automatic rollback; a person decides.
	Inconclusive = 9
)

// classes is every class: its code, its journal word and its name.
var classes = []struct {
	code       int
	word, name string
}{
	{OK, "", "ok"},
	{Internal, "internal", "internal error"},
	{Config, "config", "configuration error"},
	{Preflight, "preflight", "preflight blocker"},
	{Deploy, "deploy", "deploy step failed"},
	{Smoke, "smoke", "smoke failed"},
	{SLO, "slo", "SLO breach"},
	{Rollback, "rollback", "rollback failed"},
	{Refused, "refused", "refused"},
	{Inconclusive, "inconclusive", "inconclusive: a person decides"},
}

// Name is the class name printed next to the code.
func Name(code int) string {
	for _, c := range classes {
		if c.code == code {
			return c.name
		}
	}
	return "internal error"
}

// Class is the word a journal entry records for a failure of this code
// ("deploy", "slo", ...); "" for OK and unknown codes.
func Class(code int) string {
	for _, c := range classes {
		if c.code == code {
			return c.word
		}
	}
	return ""
}

// FromClass is the code of a class word (case-insensitive); false when the
// word names no class.
func FromClass(word string) (int, bool) {
	word = strings.ToLower(strings.TrimSpace(word))
	if word == "" {
		return 0, false
	}
	for _, c := range classes {
		if c.word == word {
			return c.code, true
		}
	}
	return 0, false
}

// Error carries an exit code with the error that caused it.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Wrap attaches a code to err; nil stays nil.
func Wrap(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Refusal is a run that must not start, and did not: a change without the
// target's confirmation word, a rollback without a verified backup.
// Nothing was changed. Its exit code is Refused; Refuse returns it wrapped
// in an *Error that carries that code.
type Refusal struct {
	What   string // what was refused: "rollback", "deploy"
	Reason string // why, and what to do
}

func (e *Refusal) Error() string {
	if e.What == "" {
		return "refused: " + e.Reason
	}
	return e.What + " refused: " + e.Reason
}

// Refuse returns a *Refusal of what for reason, carrying the code Refused.
func Refuse(what, reason string) error {
	return Wrap(Refused, &Refusal{What: what, Reason: reason})
}
