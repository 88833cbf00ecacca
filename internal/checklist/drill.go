package checklist

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// RollbackRecord is the record of one rollback drill: the ROLLBACK
// PROCEDURE run end to end on an environment (staging) from version back to
// To, then verified. "Rollback tested (on staging)" (item 6) reads it
// (staging.rollbackRecord) and its step durations feed the estimated
// rollback time. The rollback run writes it with WriteJSON.
type RollbackRecord struct {
	Env     string `json:"env"`     // staging
	Version string `json:"version"` // the version rolled back from: the one being deployed
	To      string `json:"to"`      // the version restored (v1.9.0)
	// Result is "succeeded" when every step and the verification (smoke
	// tests on the previous version) passed.
	Result string    `json:"result"`
	At     time.Time `json:"at"` // when it ended
	// Duration is the whole procedure, notify to notify.
	Duration time.Duration `json:"duration_ns"`
	// Steps are how long each step took, by name (scale-down, restore,
	// rollout, smoke...).
	Steps map[string]time.Duration `json:"steps_ns,omitempty"`
	// Problems say why Result is not succeeded.
	Problems []string `json:"problems,omitempty"`
}

// RollbackSucceeded is RollbackRecord.Result for a drill that passed.
const RollbackSucceeded = "succeeded"

// Check says why the record does not prove a passed rollback drill of
// version on env, ended no longer than maxAge before now (and not in the
// future), or nil.
func (r RollbackRecord) Check(env, version string, maxAge time.Duration, now time.Time) error {
	var problems []string
	if r.Env != env {
		problems = append(problems, fmt.Sprintf("it is a drill on %q, not %s", r.Env, env))
	}
	if r.Version != version {
		problems = append(problems, fmt.Sprintf("it rolled back %q, not %s", r.Version, version))
	}
	if r.Result != RollbackSucceeded {
		p := fmt.Sprintf("its result is %q, not %s", r.Result, RollbackSucceeded)
		if len(r.Problems) > 0 {
			p += " (" + strings.Join(r.Problems, "; ") + ")"
		}
		problems = append(problems, p)
	}
	switch age := now.Sub(r.At); {
	case r.At.IsZero():
		problems = append(problems, "it records no time")
	case age < -time.Minute:
		problems = append(problems, fmt.Sprintf("its time %s is in the future", r.At.UTC().Format(time.RFC3339)))
	case maxAge > 0 && age > maxAge:
		problems = append(problems, fmt.Sprintf("it ended %s, %s ago: older than %s", r.At.UTC().Format("2006-01-02 15:04 MST"), age.Round(time.Minute), maxAge))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
