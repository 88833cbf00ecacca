package report

import (
	"slices"
	"strings"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/gotestjson"
	"github.com/granter/runbook/internal/journal"
)

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
		na := ""
		if strict {
			for _, s := range g.Result.Subtests(name) {
				if s.Status != gotestjson.Skipped {
					continue
				}
				if msg := s.Message(); strings.HasPrefix(msg, flow.NotApplicableMark) {
					// Declared in the target's file, with why and where
					// else it is verified: shown, never counted as passed.
					na += "; " + s.Sub() + ": " + msg
					continue
				}
				a.add(NotEvaluated, gate+": "+s.Name, "SKIPPED, not passed: %s", strings.TrimPrefix(s.Message(), "SKIPPED, not passed: "))
				return true
			}
		}
		if na != "" {
			a.add(Met, src, "passed (%s), except the steps declared not applicable%s", round(t.Elapsed), na)
			break
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
