package report

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/stats"
)

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
		case e.Status == journal.StatusFailed && e.Phase == journal.Phase4:
			// A failed watch round fails for any of its checks; Step 4.5's
			// entry is the error rate's own.
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
			raw := e.Data[journal.KeyMonitorWindow]
			w, err := time.ParseDuration(raw)
			switch {
			case err != nil:
				a.add(NotEvaluated, entrySource(e), "%s %q is not a duration: how long the watch lasted is unknown", journal.KeyMonitorWindow, raw)
			case w+time.Second >= phase4.MonitorWindow: // the window is rounded to the second
				a.add(Met, entrySource(e), "watched %s: %s", raw, e.Action)
			case e.Data[journal.KeyMonitorRehearsal] == "true":
				a.add(Met, entrySource(e), "REHEARSAL: watched %s, the runbook's %s compressed on a rehearsal target: %s", raw, phase4.MonitorWindow, e.Action)
			default:
				a.add(NotEvaluated, entrySource(e), "watched %s, shorter than the runbook's %s, on a target that is not a rehearsal: a shorter watch cannot show stable metrics (make monitor with the runbook's schedule)", raw, phase4.MonitorWindow)
			}
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
		// Its tests are evidence of the checks, not of how long the watch
		// lasted: only the journal's watch entry (monitor.window) finishes it.
		for _, t := range g.Result.Tests {
			if !strings.Contains(t.Name, "/") {
				testEvidence(a, r, "monitor", t.Name, true)
			}
		}
	}
	if (len(monitor) > 0 || r.Gate("monitor") != nil) && !finished {
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
