package deploy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/target"
)

// What a step changes on the target, for the next command after a failure
// and for the rollback plan (a "started" entry's journal.KeyChanges).
const (
	ChangesNothing  = ""
	ChangesDatabase = journal.ChangesDatabase
	ChangesImages   = journal.ChangesImages
	ChangesReplicas = journal.ChangesReplicas
	ChangesChannel  = "team channel"
)

// Step is one line of the runbook's deployment steps.
type Step struct {
	Phase journal.Phase // journal.Preflight, journal.Phase1..journal.Phase4
	ID    string        // the runbook's number: 1.1, ..., 3.4; "checklist" for the preflight gate
	Title string        // what the runbook says: "Final Database Backup"
	// Manual is the runbook's command for this step, written for this
	// target (names of secret variables, never their values).
	Manual string
	// Would says what the step does to this target, for --dry-run.
	Would string
	// Changes is what running the step changes on the target
	// (ChangesDatabase, ...); ChangesNothing for checks. A step that
	// changes something needs the target's confirmation word.
	Changes string
	// Class is the exit code when the step fails (internal/exitcode).
	Class int
	// Timeout bounds the step (0: only the caller's context).
	Timeout time.Duration
	// Run does the step. It reports progress and data through r and
	// returns an error saying what was expected and what was seen.
	Run func(ctx context.Context, s *State, r *Record) error
}

// Label is "Step 1.1 Final Database Backup" ("Preflight checklist" for the gate).
func (s Step) Label() string {
	if s.ID == "" || strings.ContainsAny(s.ID[:1], "abcdefghijklmnopqrstuvwxyz") {
		return s.Title
	}
	return "Step " + s.ID + " " + s.Title
}

// Gates are the steps the CLI and the tests provide differently: the
// pre-deployment checklist, and Phase 4 (Steps 4.1-4.5).
type Gates struct {
	Preflight []Step
	Phase4    []Step
}

// Plan is the whole deployment of version to the target: the preflight
// gate, Phases 1-3, and Phase 4's gates, in the runbook's order.
func Plan(tgt *target.Target, version string, g Gates) []Step {
	var steps []Step
	steps = append(steps, g.Preflight...)
	steps = append(steps, Phase1(tgt, version)...)
	steps = append(steps, Phase2(tgt)...)
	steps = append(steps, Phase3(tgt, version)...)
	steps = append(steps, g.Phase4...)
	return steps
}

// Select keeps the steps whose ID is one of ids, in plan order.
func Select(steps []Step, ids ...string) []Step {
	var out []Step
	for _, s := range steps {
		for _, id := range ids {
			if s.ID == id {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// Validate checks what every plan needs before anything runs: a release
// version and the target's services.
func Validate(tgt *target.Target, version string) error {
	if version == "" {
		return fmt.Errorf("no version to deploy: pass VERSION=v2.0.0 (make) or --version v2.0.0 (RUNBOOK_VERSION)")
	}
	if !strings.HasPrefix(version, "v") {
		return fmt.Errorf("version %q: want a release tag such as v2.0.0", version)
	}
	if len(tgt.Services) == 0 {
		return fmt.Errorf("%s lists no services", tgt.File)
	}
	return nil
}

// Reachable checks that the target names everything a real run talks to:
// every service's URL, the database, the cluster. Locally these come from a
// running platform (make local, or RUNBOOK_LOCAL_TARGET).
func Reachable(tgt *target.Target) error {
	var missing []string
	for _, s := range tgt.Services {
		if s.URL == "" {
			missing = append(missing, "services["+s.Name+"].url")
		}
	}
	if tgt.Database == nil || tgt.Database.URL.IsZero() {
		missing = append(missing, "database.urlEnv")
	}
	if tgt.Kube == nil {
		missing = append(missing, "kube")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s does not say where %s are: set them there, or locally start the platform with `make local` (or point RUNBOOK_LOCAL_TARGET at the endpoints file of a running one)",
		tgt.File, strings.Join(missing, ", "))
}
