// Package exitcode is the runbook's contract with CI: one exit code per
// failure class, the same for the CLI and every make target, so a pipeline
// can branch on it (for example, start a rollback on Deploy or SLO).
package exitcode

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
)

// Name is the class name printed next to the code.
func Name(code int) string {
	switch code {
	case OK:
		return "ok"
	case Config:
		return "configuration error"
	case Preflight:
		return "preflight blocker"
	case Deploy:
		return "deploy step failed"
	case Smoke:
		return "smoke failed"
	case SLO:
		return "SLO breach"
	case Rollback:
		return "rollback failed"
	case Refused:
		return "refused"
	default:
		return "internal error"
	}
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
