package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/gotestjson"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
)

// Verdict is the go-live decision with everything behind it.
type Verdict struct {
	Run      *Run
	Approved bool
	Criteria []Criterion // runbook order
	// Failures are every failed step and check, earliest first.
	Failures []Failure
	// Reasons say why the run is not approved beyond the criteria (a gate
	// failed outside them, a rollback ran).
	Reasons  []string
	Next     Next
	ExitCode int
	Timeline []PhaseRow
	// RolledBack is set when the journal or a gate shows a rollback.
	RolledBack bool
	// Rehearsal says why this run is a rehearsal (a compressed watch on a
	// rehearsal target): it is then never approved for go-live. With every
	// criterion met it is RehearsalPassed, and exits 0.
	Rehearsal       []string
	RehearsalPassed bool
}

// Headline is "GO-LIVE APPROVED", "REHEARSAL PASSED (not a go-live
// approval)" or "NOT APPROVED".
func (v Verdict) Headline() string {
	switch {
	case v.Approved:
		return "GO-LIVE APPROVED"
	case v.RehearsalPassed:
		return "REHEARSAL PASSED (not a go-live approval)"
	}
	return "NOT APPROVED"
}

// Passed is true when the verdict exits 0: approved, or a rehearsal
// whose every criterion is met.
func (v Verdict) Passed() bool { return v.Approved || v.RehearsalPassed }

// FirstFailure is the earliest failure, or nil.
func (v Verdict) FirstFailure() *Failure {
	if len(v.Failures) == 0 {
		return nil
	}
	return &v.Failures[0]
}

// Blocking returns the criteria that stop the go-live: NOT MET first, then
// NOT EVALUATED, each group in the runbook's order.
func (v Verdict) Blocking() []Criterion {
	var out []Criterion
	for _, want := range []State{NotMet, NotEvaluated} {
		for _, c := range v.Criteria {
			if c.State == want {
				out = append(out, c)
			}
		}
	}
	return out
}

// Count returns how many criteria are in state s.
func (v Verdict) Count(s State) int {
	n := 0
	for _, c := range v.Criteria {
		if c.State == s {
			n++
		}
	}
	return n
}

// Failure is one failed journal step or gate test.
type Failure struct {
	When    time.Time
	Phase   journal.Phase
	Where   string // "Step 3.2 (phase3)", "smoke: TestSearch/filter_category"
	Message string
	Manual  string // the runbook's manual command for the step, when known
	Class   int    // exitcode class
}

// Next is what to do now.
type Next struct {
	Command string
	Why     string
	Manual  string // the runbook's manual equivalent, when there is one
}

// finish derives failures, verdict, exit code, next step and timeline.
func (v *Verdict) finish() {
	r := v.Run
	v.Failures = failures(r)
	for _, e := range r.Entries {
		if e.Phase == journal.Rollback {
			v.RolledBack = true
		}
	}
	if r.Gate("rollback") != nil {
		v.RolledBack = true
	}
	all := true
	for _, c := range v.Criteria {
		all = all && c.State == Met
	}
	if n := len(v.Failures); n > 0 {
		v.Reasons = append(v.Reasons, fmt.Sprintf("%d step(s) or check(s) failed: a failed gate never approves (the first is below)", n))
	}
	if v.RolledBack {
		v.Reasons = append(v.Reasons, "a rollback was run")
	}
	for _, e := range r.GateErrors {
		v.Reasons = append(v.Reasons, "gate results unreadable, so not approved: "+e)
	}
	for _, e := range r.entries(inPhase(journal.Monitor)) {
		if e.Status == journal.StatusOK && e.Data[journal.KeyMonitorRehearsal] == "true" {
			v.Rehearsal = append(v.Rehearsal, fmt.Sprintf("the 4-hour watch was compressed to %s on a rehearsal target", e.Data[journal.KeyMonitorWindow]))
		}
	}
	clean := all && len(v.Failures) == 0 && !v.RolledBack && len(r.GateErrors) == 0
	v.Approved = clean && len(v.Rehearsal) == 0
	v.RehearsalPassed = clean && len(v.Rehearsal) > 0
	v.ExitCode = v.exitCode()
	v.Next = v.next()
	v.Timeline = timeline(r)
}

// exitCode: OK when approved; a failed rollback above all; else the class
// of what failed first; else (nothing failed, evidence missing) Internal:
// a gate did not run or did not record what the report needs.
func (v *Verdict) exitCode() int {
	switch {
	case v.Passed():
		return exitcode.OK
	case v.rollbackFailed():
		return exitcode.Rollback
	case len(v.Failures) > 0:
		return v.Failures[0].Class
	}
	for _, c := range v.Criteria {
		if c.State == NotMet {
			return c.Class
		}
	}
	return exitcode.Internal
}

func (v *Verdict) rollbackFailed() bool {
	for _, f := range v.Failures {
		if f.Class == exitcode.Rollback {
			return true
		}
	}
	return false
}

// failures collects every failed journal entry and gate test (leaf tests
// only: a flow that failed because its step did is one failure), plus
// gates whose package failed without a failed test (a build error, a
// panic, a configuration error), earliest first.
func failures(r *Run) []Failure {
	var out []Failure
	for i, e := range r.Entries {
		if e.Status == journal.StatusStarted && !endedLater(r.Entries[i+1:], e) {
			out = append(out, Failure{When: e.Time, Phase: e.Phase, Where: stepName(e), Manual: e.Manual, Class: entryClass(e),
				Message: e.Action + ": started and never finished (the run stopped during this step)"})
			continue
		}
		if e.Status != journal.StatusFailed {
			continue
		}
		f := Failure{When: e.Time, Phase: e.Phase, Where: stepName(e), Message: e.Error, Manual: e.Manual, Class: entryClass(e)}
		if f.Message == "" {
			f.Message = e.Action + ": failed"
		}
		out = append(out, f)
	}
	for _, g := range r.Gates {
		leaves := g.Result.Leaves()
		for _, t := range leaves {
			out = append(out, Failure{When: t.Ended, Phase: gatePhase(g.Name), Where: g.Name + ": " + t.Name,
				Message: orDefault(t.Message(), "failed without a message (see "+g.Name+".json)"), Class: testClass(g.Name, t.Name)})
		}
		for _, t := range g.Result.Tests {
			if t.Status == gotestjson.NoResult {
				out = append(out, Failure{When: g.Result.End, Phase: gatePhase(g.Name), Where: g.Name + ": " + t.Name,
					Message: "did not finish (the test binary crashed or timed out)", Class: testClass(g.Name, t.Name)})
			}
		}
		if len(leaves) == 0 && g.Result.PackageFailed() {
			msg, class := packageFailure(g)
			out = append(out, Failure{When: g.Result.End, Phase: gatePhase(g.Name), Where: g.Name + " gate", Message: msg, Class: class})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].When.Before(out[j].When) })
	return out
}

// endedLater reports whether a later entry closes the started step e.
func endedLater(later []journal.Entry, e journal.Entry) bool {
	for _, l := range later {
		if l.Phase == e.Phase && l.Step == e.Step && l.Status != journal.StatusStarted {
			return true
		}
	}
	return false
}

// configMarker starts the message internal/suite prints for a
// configuration error.
const configMarker = "the target configuration is not usable"

func packageFailure(g *Gate) (string, int) {
	var lines []string
	lines = append(lines, g.Result.Stray...)
	for _, out := range g.Result.PackageOutput {
		lines = append(lines, out...)
	}
	for i, l := range lines {
		if strings.Contains(l, configMarker) {
			rest := lines[i:]
			if len(rest) > 6 {
				rest = rest[:6]
			}
			return "configuration: " + strings.Join(trimAll(rest), " "), exitcode.Config
		}
	}
	var meaningful []string
	for _, l := range lines {
		if c := gotestjson.Clean(l); c != "" {
			meaningful = append(meaningful, c)
		}
	}
	if len(meaningful) > 5 {
		meaningful = meaningful[len(meaningful)-5:]
	}
	msg := "the gate failed outside its tests (build error, panic, timeout)"
	if len(meaningful) > 0 {
		msg += ": " + strings.Join(meaningful, " ")
	}
	return msg, gateClass(g.Name)
}

func trimAll(ls []string) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		if t := strings.TrimSpace(l); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func stepName(e journal.Entry) string {
	switch {
	case e.Phase == "" && e.Step == "":
		return "journal"
	case e.Phase == "":
		return "Step " + e.Step
	case e.Step == "":
		return string(e.Phase)
	}
	return fmt.Sprintf("Step %s (%s)", e.Step, e.Phase)
}

// entryClass is the failure class of a failed journal entry: its class
// Data key, else by phase and step.
func entryClass(e journal.Entry) int {
	if c, ok := exitcode.FromClass(e.Data[journal.KeyClass]); ok {
		return c
	}
	switch e.Phase {
	case journal.Preflight:
		return exitcode.Preflight
	case journal.Phase1, journal.Phase2, journal.Phase3:
		return exitcode.Deploy
	case journal.Phase4:
		switch e.Step {
		case "4.2", "4.5":
			return exitcode.SLO
		}
		return exitcode.Smoke
	case journal.Monitor:
		return exitcode.SLO
	case journal.Rollback:
		return exitcode.Rollback
	}
	return exitcode.Deploy
}

func gateClass(gate string) int {
	switch gate {
	case "preflight":
		return exitcode.Preflight
	case "smoke", "postdeploy":
		return exitcode.Smoke
	case "monitor":
		return exitcode.SLO
	case "rollback":
		return exitcode.Rollback
	}
	return exitcode.Internal
}

// testClass is the class of a failed test: a postdeploy check's own
// (phase4.Checks), else its gate's.
func testClass(gate, name string) int {
	if gate == "postdeploy" {
		top, _, _ := strings.Cut(name, "/")
		if c, ok := phase4.LookupCheck(top); ok {
			return c.Class
		}
	}
	return gateClass(gate)
}

func gatePhase(gate string) journal.Phase {
	switch gate {
	case "smoke", "postdeploy":
		return journal.Phase4
	}
	return journal.Phase(gate)
}

// changed reports whether the run changed the platform: a migration
// applied, an image set, backend-core drained. Then the way back is the
// rollback. A failed step counts too when its entry records what it had
// already changed (Step 2.1 failing after applying migrations.new, a
// Phase 3 step failing after setting image.after).
func (r *Run) changed() (bool, string) {
	db, drained := false, false
	var images []string
	for _, e := range r.Entries {
		ok := e.Status == journal.StatusOK
		if !ok && e.Status != journal.StatusFailed {
			continue
		}
		switch {
		case e.Phase == journal.Phase2 && (e.Data[journal.KeyMigrationsNew] != "" || ok && e.Step == "2.1"):
			db = true
		case e.Phase == journal.Phase3 && e.Data[journal.KeyImageAfter] != "":
			images = appendOnce(images, orDefault(e.Data[journal.KeyDeployment], e.Data[journal.KeyImageAfter]))
		case ok && e.Phase == journal.Phase1 && e.Step == "1.3":
			drained = true
		}
	}
	var what []string
	if db {
		what = append(what, "the database (migrations applied)")
	}
	if len(images) > 0 {
		what = append(what, "the images of "+strings.Join(images, ", "))
	}
	if drained && len(images) == 0 {
		what = append(what, "the replicas (backend-core drained to 0)")
	}
	return len(what) > 0, strings.Join(what, " and ")
}

func appendOnce(list []string, s string) []string {
	for _, l := range list {
		if l == s {
			return list
		}
	}
	return append(list, s)
}

// next says what to run now.
func (v *Verdict) next() Next {
	r := v.Run
	env := r.Env
	if env == "" {
		env = "<env>"
	}
	word, confirm := "", ""
	if env != "local" {
		word, confirm = env, " CONFIRM="+env
	}
	version := r.Version
	if version == "" {
		version = "<version>"
	}
	// The rollback undoes this run: its folder is named (RUN=).
	rollback := journal.RollbackCommand(env, word, r.Dir)
	first := v.FirstFailure()
	manual := ""
	if first != nil {
		manual = first.Manual
	}
	changed, what := r.changed()
	switch {
	case v.Approved:
		return Next{Why: "every success criterion is met: go-live approved; keep the escalation contacts informed"}
	case v.RehearsalPassed:
		return Next{Why: "a rehearsal: every success criterion is met, but " + strings.Join(v.Rehearsal, "; ") + "; the go-live needs the runbook's whole watch on the real target"}
	case v.rollbackFailed():
		return Next{Command: rollback, Manual: manual,
			Why: "the rollback failed: escalate now (Database Admin, Infrastructure Lead); rerun it once the cause is understood"}
	case v.RolledBack:
		prev := r.Previous
		if prev == "" {
			prev = "the previous version"
		}
		return Next{Command: "make deploy ENV=" + env + " VERSION=" + version + confirm,
			Why: "rolled back: the system is on " + prev + "; escalate for the post-mortem, fix the cause, then deploy again"}
	case first != nil && changed:
		return Next{Command: rollback, Manual: manual,
			Why: "a gate failed after the run changed " + what + ": the runbook's way back is the rollback"}
	case first != nil:
		switch first.Class {
		case exitcode.Config:
			return Next{Command: "make preflight ENV=" + env, Why: "fix environments/" + env + ".yaml or the environment variables it names, then run the checklist again"}
		case exitcode.Preflight:
			return Next{Command: "make preflight ENV=" + env, Manual: manual, Why: "a checklist item is blocking: nothing was changed; fix it and run the checklist again"}
		case exitcode.Smoke, exitcode.SLO:
			return Next{Command: "make smoke ENV=" + env, Manual: manual, Why: "a Phase 4 check failed and nothing recorded a change to roll back; check the failure, then rerun the check"}
		}
		return Next{Command: "make deploy ENV=" + env + " VERSION=" + version + confirm, Manual: manual,
			Why: "the deployment stopped before changing the database or the images: fix the cause and run it again"}
	}
	// Nothing failed; evidence is missing.
	for _, c := range v.Blocking() {
		switch c.ID {
		case "smoke", "auth", "search", "health":
			return Next{Command: "make smoke ENV=" + env, Why: "no failure, but \"" + c.Text + "\" has no evidence: run the gate that proves it"}
		case "deployed", "migrations":
			return Next{Command: "make deploy ENV=" + env + " VERSION=" + version + confirm, Why: "no failure, but \"" + c.Text + "\" has no evidence: the deployment did not run or did not record it"}
		default:
			return Next{Command: "make postdeploy ENV=" + env, Why: "no failure, but \"" + c.Text + "\" has no evidence: run the Phase 4 checks and the watch"}
		}
	}
	return Next{Why: "nothing to do"}
}
