package report

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/gotestjson"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/stats"
)

// State is a criterion's (or one piece of evidence's) outcome. The zero
// value is NotEvaluated: nothing is met by default.
type State int

// States.
const (
	NotEvaluated State = iota
	NotMet
	Met
)

func (s State) String() string {
	switch s {
	case Met:
		return "MET"
	case NotMet:
		return "NOT MET"
	}
	return "NOT EVALUATED"
}

// Mark is the state's symbol: ✅, ❌ or ⚠.
func (s State) Mark() string {
	switch s {
	case Met:
		return "✅"
	case NotMet:
		return "❌"
	}
	return "⚠"
}

// Evidence is one thing seen, where it was seen, and what it says.
type Evidence struct {
	State  State
	Source string // "journal phase3 step 3.2", "smoke: TestAuth/login"
	Text   string
}

// Criterion is one line of SUCCESS CRITERIA with its outcome.
type Criterion struct {
	N        int    // 1..11, the runbook's order
	ID       string // deployed, migrations, ...
	Text     string // the runbook's words
	State    State
	Summary  string // one line: why this state
	Evidence []Evidence
	Class    int // exitcode class when NOT MET
}

// Criteria lists the runbook's success criteria in its order.
var Criteria = []struct {
	ID, Text string
	Class    int
}{
	{"deployed", "All services deployed without errors", exitcode.Deploy},
	{"migrations", "Database migrations completed", exitcode.Deploy},
	{"health", "All health checks passing", exitcode.Smoke},
	{"smoke", "All 5 smoke tests passing", exitcode.Smoke},
	{"error_rate", "Error rate < 0.1%", exitcode.SLO},
	{"alerts", "No critical alerts triggered", exitcode.SLO},
	{"auth", "Users can register/login", exitcode.Smoke},
	{"search", "Users can search grants", exitcode.Smoke},
	{"endpoints", "All API endpoints responding", exitcode.Smoke},
	{"sql", "No SQL errors in logs", exitcode.SLO},
	{"stable", "Monitoring shows stable metrics", exitcode.SLO},
}

// ExpectedMigrations are the runbook's Phase 2 migrations, used when the
// journal does not list the expected ones.
var ExpectedMigrations = []string{"20260127000050", "20260127000100", "20260127000200", "20260127000300", "20260127000400", "20260128001000"}

// DefaultErrorRateThreshold is the runbook's "Error rate < 0.1%".
const DefaultErrorRateThreshold = 0.001

// maxEvidence bounds one evidence line; the full text is in the gate files.
const maxEvidence = 400

// acc collects a criterion's evidence.
type acc struct{ c *Criterion }

func (a acc) add(s State, source, format string, args ...any) {
	a.c.Evidence = append(a.c.Evidence, Evidence{State: s, Source: source, Text: clip(fmt.Sprintf(format, args...), maxEvidence)})
}

// finish sets the state: any evidence NOT MET makes the criterion NOT MET;
// else any NOT EVALUATED evidence, or none at all, NOT EVALUATED; else MET.
// missing says what would have been evidence.
func (a acc) finish(missing string) {
	c := a.c
	var bad, unknown *Evidence
	for i := range c.Evidence {
		e := &c.Evidence[i]
		switch {
		case e.State == NotMet && bad == nil:
			bad = e
		case e.State == NotEvaluated && unknown == nil:
			unknown = e
		}
	}
	switch {
	case bad != nil:
		c.State, c.Summary = NotMet, bad.Source+": "+bad.Text
	case len(c.Evidence) == 0:
		c.State, c.Summary = NotEvaluated, "no evidence: "+missing
		c.Evidence = []Evidence{{State: NotEvaluated, Source: "missing", Text: "no evidence: " + missing}}
	case unknown != nil:
		c.State, c.Summary = NotEvaluated, unknown.Source+": "+unknown.Text
	default:
		c.State = Met
		c.Summary = fmt.Sprintf("%d piece(s) of evidence, all good", len(c.Evidence))
	}
	// What is wrong first, then what is unknown, then what is fine.
	rank := map[State]int{NotMet: 0, NotEvaluated: 1, Met: 2}
	sort.SliceStable(c.Evidence, func(i, j int) bool { return rank[c.Evidence[i].State] < rank[c.Evidence[j].State] })
}

func entrySource(e journal.Entry) string {
	s := "journal"
	if e.Phase != "" {
		s += " " + string(e.Phase)
	}
	if e.Step != "" {
		s += " step " + e.Step
	}
	return s
}

// entryState is what a journal entry proves: ok is met, failed is not
// met, anything else (skipped, dry-run, started) proves nothing.
func entryState(e journal.Entry) State {
	switch e.Status {
	case journal.StatusOK:
		return Met
	case journal.StatusFailed:
		return NotMet
	}
	return NotEvaluated
}

func entryText(e journal.Entry) string {
	t := e.Action
	switch e.Status {
	case journal.StatusFailed:
		t += ": FAILED: " + e.Error
	case journal.StatusOK:
	default:
		t += " (" + e.Status + ", proves nothing)"
	}
	return t
}

// entries returns the journal entries that match, without "started"
// markers: a step's verdict is its final entry (a step that started and
// never ended is a failure, see failures).
func (r *Run) entries(match func(journal.Entry) bool) []journal.Entry {
	var out []journal.Entry
	for _, e := range r.Entries {
		if e.Status != journal.StatusStarted && match(e) {
			out = append(out, e)
		}
	}
	return out
}

func inPhase(phases ...journal.Phase) func(journal.Entry) bool {
	return func(e journal.Entry) bool { return slices.Contains(phases, e.Phase) }
}

func hasData(key string) func(journal.Entry) bool {
	return func(e journal.Entry) bool { _, ok := e.Data[key]; return ok }
}

// testEvidence adds what a gate test proves: passed is met (with what it
// logged), failed or unfinished is not met, skipped proves nothing. With
// strict, a passing test any of whose subtests was skipped is not evaluated:
// a skipped step is never a pass.
func testEvidence(a acc, r *Run, gate, name string, strict bool) bool {
	g := r.Gate(gate)
	if g == nil {
		return false
	}
	t := g.Result.Test(name)
	if t == nil {
		return false
	}
	src := gate + ": " + name
	switch t.Status {
	case gotestjson.Passed:
		if strict {
			for _, s := range g.Result.Subtests(name) {
				if s.Status == gotestjson.Skipped {
					a.add(NotEvaluated, gate+": "+s.Name, "SKIPPED, not passed: %s", strings.TrimPrefix(s.Message(), "SKIPPED, not passed: "))
					return true
				}
			}
		}
		a.add(Met, src, "passed (%s): %s", round(t.Elapsed), lastLines(t, 2))
	case gotestjson.Failed:
		a.add(NotMet, src, "FAILED: %s", g.Result.Reason(t))
	case gotestjson.Skipped:
		a.add(NotEvaluated, src, "SKIPPED, not passed: %s", t.Message())
	default:
		a.add(NotMet, src, "did not finish (the test binary crashed or timed out): %s", lastLines(t, 1))
	}
	return true
}

// lastLines is what a passing test said last, joined.
func lastLines(t *gotestjson.Test, n int) string {
	lines := t.Lines()
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "(logged nothing)"
	}
	return strings.Join(lines, "; ")
}

// Evaluate judges each success criterion from the run's evidence and gives
// the verdict.
func Evaluate(r *Run) Verdict {
	v := Verdict{Run: r}
	for i, def := range Criteria {
		c := Criterion{N: i + 1, ID: def.ID, Text: def.Text, Class: def.Class}
		a := acc{&c}
		switch def.ID {
		case "deployed":
			evalDeployed(a, r)
		case "migrations":
			evalMigrations(a, r)
		case "health":
			evalHealth(a, r)
		case "smoke":
			evalSmoke(a, r)
		case "error_rate":
			evalErrorRate(a, r)
		case "alerts":
			evalCount(a, r, journal.KeyAlertsCritical, journal.KeyAlertsCriticalNames, journal.KeyAlertsQuery, "critical alerts", []string{phase4.NoCriticalAlerts.Test},
				"alerts.critical in the journal (phase4, monitor) or postdeploy TestNoCriticalAlerts")
		case "auth":
			evalAuth(a, r)
		case "search":
			if !testEvidence(a, r, "smoke", phase4.Search.Test, true) {
				a.finish("smoke TestSearch (smoke.json)")
			} else {
				a.finish("")
			}
		case "endpoints":
			evalEndpoints(a, r)
		case "sql":
			evalCount(a, r, journal.KeySQLErrors, journal.KeySQLErrorsSample, journal.KeyLogsQuery, "SQL errors in the logs", []string{phase4.NoSQLErrors.Test},
				"sql.errors in the journal (phase4, monitor) or postdeploy TestNoSQLErrors")
		case "stable":
			evalStable(a, r)
		}
		v.Criteria = append(v.Criteria, c)
	}
	v.finish()
	return v
}

func evalDeployed(a acc, r *Run) {
	deploy := r.entries(inPhase(journal.Phase1, journal.Phase2, journal.Phase3))
	for _, e := range deploy {
		if e.Status == journal.StatusFailed {
			a.add(NotMet, entrySource(e), "%s", entryText(e))
		}
	}
	phase3 := r.entries(inPhase(journal.Phase3))
	if len(phase3) == 0 {
		a.finish("phase3 journal entries (deployment, image.after, rollout=complete per service)")
		return
	}
	done := false
	for _, e := range phase3 {
		done = done || e.Status == journal.StatusOK || e.Status == journal.StatusFailed
	}
	if !done {
		a.add(NotEvaluated, "journal phase3", "Phase 3 recorded only %s steps: nothing was deployed", phase3[0].Status)
		a.finish("")
		return
	}
	for _, svc := range r.Services {
		var set, rolled *journal.Entry
		for i := range phase3 {
			e := &phase3[i]
			if e.Data[journal.KeyDeployment] != svc || e.Status != journal.StatusOK {
				continue
			}
			if e.Data[journal.KeyImageAfter] != "" {
				set = e
			}
			if e.Data[journal.KeyRollout] == "complete" {
				rolled = e
			}
		}
		switch {
		case set == nil:
			a.add(NotMet, "journal phase3", "%s: no image was set (no ok entry with deployment=%s and image.after)", svc, svc)
		case rolled == nil:
			a.add(NotMet, entrySource(*set), "%s: image %s set, but its rollout never completed (no ok entry with rollout=complete)", svc, set.Data[journal.KeyImageAfter])
		default:
			ready := ""
			if rd := rolled.Data["ready"]; rd != "" {
				ready = ", " + rd + " ready"
			}
			before := set.Data[journal.KeyImageBefore]
			if before == "" {
				before = "?"
			}
			src := entrySource(*set)
			if r := entrySource(*rolled); r != src {
				src += ", " + r
			}
			a.add(Met, src, "%s: %s → %s, rollout complete%s", svc, before, set.Data[journal.KeyImageAfter], ready)
		}
	}
	a.finish("")
}

func evalMigrations(a acc, r *Run) {
	for _, e := range r.entries(inPhase(journal.Phase2)) {
		if e.Status == journal.StatusFailed {
			a.add(NotMet, entrySource(e), "%s", entryText(e))
		}
	}
	withList := r.entries(func(e journal.Entry) bool {
		return e.Phase == journal.Phase2 && hasData(journal.KeyMigrationsApplied)(e)
	})
	if len(withList) == 0 {
		a.finish("a phase2 journal entry with migrations.applied (Step 2.2: migration status)")
		return
	}
	e := withList[len(withList)-1]
	expected, from := splitList(e.Data[journal.KeyMigrationsExpected]), "journal"
	if len(expected) == 0 {
		expected, from = ExpectedMigrations, "the runbook (the journal gave no migrations.expected)"
	}
	applied := splitList(e.Data[journal.KeyMigrationsApplied])
	var missing []string
	for _, m := range expected {
		if !slices.Contains(applied, m) {
			missing = append(missing, m)
		}
	}
	switch {
	case e.Status != journal.StatusOK:
		a.add(entryState(e), entrySource(e), "%s", entryText(e))
	case len(missing) > 0:
		a.add(NotMet, entrySource(e), "expected migrations (from %s) not applied: %s; applied: %s", from, strings.Join(missing, ", "), strings.Join(applied, ", "))
	default:
		txt := fmt.Sprintf("all %d expected migrations (from %s) in success state", len(expected), from)
		if n := e.Data[journal.KeyMigrationsNew]; n != "" {
			txt += "; applied by this run: " + n
		}
		a.add(Met, entrySource(e), "%s", txt)
	}
	a.finish("")
}

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

func evalErrorRate(a acc, r *Run) {
	for _, e := range r.entries(hasData(journal.KeyErrorRate)) {
		if e.Phase != journal.Phase4 && e.Phase != journal.Monitor {
			continue // preflight's baseline measured the old version: not evidence of this one
		}
		raw := e.Data[journal.KeyErrorRate]
		threshold := DefaultErrorRateThreshold
		if t, ok := parseRatio(e.Data[journal.KeyErrorRateThreshold]); ok {
			threshold = t
		}
		detail := evidenceDetail(e, journal.KeyErrorRateQuery, journal.KeyErrorRateWindow)
		errs, reqs, ok := journal.RateCounts(e.Data)
		if !ok {
			a.add(NotEvaluated, entrySource(e), "error rate %q without its counts (%s, %s): a ratio alone cannot show < %s%s",
				raw, journal.KeyErrorRateErrors, journal.KeyErrorRateRequests, pct(threshold), detail)
			continue
		}
		// Decided again from the counts, whatever the entry concluded.
		res := stats.UnderThreshold(errs, reqs, threshold)
		switch {
		case res.Verdict == stats.Breached:
			a.add(NotMet, entrySource(e), "%s%s", res, detail)
		case res.Verdict == stats.Inconclusive:
			a.add(NotEvaluated, entrySource(e), "%s%s", res, detail)
		case e.Status == journal.StatusFailed:
			a.add(NotMet, entrySource(e), "%s but the step failed: %s%s", res, e.Error, detail)
		default:
			a.add(Met, entrySource(e), "%s%s", res, detail)
		}
	}
	testEvidence(a, r, "postdeploy", phase4.ErrorRate.Test, true)
	testEvidence(a, r, "monitor", "TestErrorRate", true)
	a.finish("error_rate in the journal (Step 4.5, monitor) or postdeploy TestErrorRate")
}

// evalCount checks a count key that must be 0 (critical alerts, SQL errors).
func evalCount(a acc, r *Run, key, sampleKey, queryKey, what string, tests []string, missing string) {
	for _, e := range r.entries(hasData(key)) {
		raw := e.Data[key]
		detail := evidenceDetail(e, queryKey)
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		switch {
		case err != nil:
			a.add(NotEvaluated, entrySource(e), "%s not counted: %q%s", what, raw, detail)
		case n > 0:
			s := ""
			if sample := e.Data[sampleKey]; sample != "" {
				s = ": " + sample
			}
			a.add(NotMet, entrySource(e), "%d %s%s%s", n, what, s, detail)
		case e.Status == journal.StatusFailed:
			a.add(NotMet, entrySource(e), "0 %s but the step failed: %s%s", what, e.Error, detail)
		default:
			a.add(Met, entrySource(e), "0 %s%s", what, detail)
		}
	}
	for _, t := range tests {
		testEvidence(a, r, "postdeploy", t, true)
		testEvidence(a, r, "monitor", t, true)
	}
	a.finish(missing)
}

func evalStable(a acc, r *Run) {
	monitor := r.entries(inPhase(journal.Monitor))
	finished := false
	for _, e := range monitor {
		switch {
		case e.Status == journal.StatusFailed:
			a.add(NotMet, entrySource(e), "%s", entryText(e))
		case e.Status == journal.StatusOK && e.Data[journal.KeyMonitorWindow] != "":
			finished = true
			a.add(Met, entrySource(e), "watched %s: %s", e.Data[journal.KeyMonitorWindow], e.Action)
		}
	}
	// Every metric with a threshold, in the monitor phase or anywhere else
	// (a p95 measured in Phase 4 counts too), checked again here so that a
	// value over its threshold in an entry marked ok is still caught. The
	// keys with a criterion of their own are left to it. A value that
	// cannot be compared ("n/a") is left to its entry's status: a monitor
	// round without data fails.
	for _, e := range r.entries(func(journal.Entry) bool { return true }) {
		keys := make([]string, 0, len(e.Data))
		for k := range e.Data {
			if strings.HasSuffix(k, ".threshold") && !ownCriterion(k) {
				keys = append(keys, strings.TrimSuffix(k, ".threshold"))
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			val, thr := e.Data[k], e.Data[k+".threshold"]
			if below, ok := less(val, thr); ok && !below {
				a.add(NotMet, entrySource(e), "%s %s, want < %s%s", k, val, trimOp(thr), evidenceDetail(e, k+".query"))
			}
		}
	}
	if g := r.Gate("monitor"); g != nil {
		passed := 0
		for _, t := range g.Result.Tests {
			if strings.Contains(t.Name, "/") {
				continue
			}
			testEvidence(a, r, "monitor", t.Name, true)
			if t.Status == gotestjson.Passed {
				passed++
			}
		}
		if passed > 0 && !g.Result.PackageFailed() {
			finished = true
		}
	}
	if len(monitor) > 0 && !finished {
		a.add(NotEvaluated, "journal monitor", "the watch did not finish: no ok monitor entry with monitor.window")
	}
	if len(monitor) == 0 && r.Gate("monitor") == nil {
		a.finish("journal monitor entries (the watch; its last with monitor.window) or monitor.json")
		return
	}
	a.finish("")
}

// ownCriterion reports whether a Data key belongs to a criterion other than
// stable metrics.
func ownCriterion(key string) bool {
	for _, p := range []string{"error_rate", "alerts.", "sql.", "log.", "smoke."} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// evidenceDetail formats optional keys: " (query: ..., window: 5m)".
func evidenceDetail(e journal.Entry, keys ...string) string {
	var parts []string
	for _, k := range keys {
		if v := e.Data[k]; v != "" {
			name := k[strings.LastIndex(k, ".")+1:]
			parts = append(parts, name+": "+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// trimOp drops a leading comparison from a threshold as monitors print
// it ("< 0.1%", "<= 200ms").
func trimOp(s string) string {
	s = strings.TrimSpace(s)
	for _, op := range []string{"<=", "≤", "<"} {
		s = strings.TrimSpace(strings.TrimPrefix(s, op))
	}
	return s
}

// parseRatio reads "0.0004", "0.04%" or "< 0.1%".
func parseRatio(s string) (float64, bool) { return journal.ParseRatio(trimOp(s)) }

// less compares a value with its threshold: durations ("120ms" < "200ms"),
// percentages or plain numbers; a duration against a plain number reads
// the number as seconds.
func less(val, thr string) (below, ok bool) {
	val, thr = trimOp(val), trimOp(thr)
	dv, errV := time.ParseDuration(val)
	dt, errT := time.ParseDuration(thr)
	switch {
	case errV == nil && errT == nil:
		return dv < dt, true
	case errV == nil:
		if t, ok := parseRatio(thr); ok {
			return dv.Seconds() < t, true
		}
	case errT == nil:
		if v, ok := parseRatio(val); ok {
			return v < dt.Seconds(), true
		}
	}
	v, okV := parseRatio(val)
	t, okT := parseRatio(thr)
	if !okV || !okT {
		return false, false
	}
	return v < t, true
}

func pct(v float64) string {
	return strconv.FormatFloat(math.Round(v*100*1e6)/1e6, 'f', -1, 64) + "%"
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
