package report

import (
	"fmt"
	"html/template"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/gotestjson"
	"github.com/granter/runbook/internal/journal"
)

// view is what both renderings show, computed once.
type view struct {
	V          Verdict
	Title      string
	Meta       []string // env, version, span, counts
	Blocking   []Criterion
	Rows       []criterionRow
	First      *Failure
	FirstClass string
	ExitCode   int
	ExitName   string
	Phases     []phaseView
	Gates      []gateView
	Chart      chart
	// WatchCharts are the watched metrics over the monitoring rounds, one
	// SVG each (watchCharts); none without a watch.
	WatchCharts []template.HTML
	Generated   string
}

type kv struct{ K, V string }

// criterionRow is a row of the criteria table: what is wrong or unknown
// is always shown; of what is fine, one line, the rest folded.
type criterionRow struct {
	Criterion
	Shown, Folded []Evidence
}

func rowOf(c Criterion) criterionRow {
	r := criterionRow{Criterion: c}
	for _, e := range c.Evidence {
		if e.State != Met || len(r.Shown) == 0 {
			r.Shown = append(r.Shown, e)
		} else {
			r.Folded = append(r.Folded, e)
		}
	}
	return r
}

type stepView struct {
	Step, Action, Status, Took, Manual, Error, Ended string
	Data                                             []kv
}

type phaseView struct {
	Phase, Label string
	Steps        []stepView
}

type testView struct {
	Name, Short     string
	Depth           int
	Status, Elapsed string
	Message         string
	Lines           []string
}

type gateView struct {
	Name, File, JUnit                   string
	Passed, Failed, Skipped, Unfinished int
	PackageFailure                      string
	Tests                               []testView
}

func newView(v Verdict) view {
	r := v.Run
	out := view{V: v, Title: "Go-live report: " + r.Name, Blocking: v.Blocking(), First: v.FirstFailure(),
		ExitCode: v.ExitCode, ExitName: exitcode.Name(v.ExitCode), Generated: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	if out.First != nil {
		out.FirstClass = exitcode.Name(out.First.Class)
	}
	env := orDefault(r.Env, "unknown")
	out.Meta = append(out.Meta, "environment "+env)
	if r.Version != "" {
		ver := "version " + r.Version
		if r.Previous != "" {
			ver += " (from " + r.Previous + ")"
		}
		out.Meta = append(out.Meta, ver)
	}
	if !r.Start.IsZero() {
		out.Meta = append(out.Meta, fmt.Sprintf("ran %s – %s UTC (%s)", r.Start.UTC().Format("2006-01-02 15:04:05"),
			r.End.UTC().Format("15:04:05"), r.End.Sub(r.Start).Round(time.Second)))
	}
	out.Meta = append(out.Meta, fmt.Sprintf("%d of %d criteria met, %d not met, %d not evaluated",
		v.Count(Met), len(v.Criteria), v.Count(NotMet), v.Count(NotEvaluated)))

	for _, c := range v.Criteria {
		out.Rows = append(out.Rows, rowOf(c))
	}
	byPhase := map[journal.Phase]*phaseView{}
	var order []journal.Phase
	for _, e := range r.Entries {
		p := e.Phase
		if p == "" {
			p = "run"
		}
		pv := byPhase[p]
		if pv == nil {
			pv = &phaseView{Phase: string(p), Label: phaseLabel(p)}
			byPhase[p] = pv
			order = append(order, p)
		}
		pv.Steps = append(pv.Steps, stepOf(e))
	}
	for _, p := range order {
		out.Phases = append(out.Phases, *byPhase[p])
	}
	for _, g := range r.Gates {
		out.Gates = append(out.Gates, gateOf(g))
	}
	out.Chart = newChart(v.Timeline)
	out.WatchCharts = watchCharts(r.Entries)
	return out
}

func phaseLabel(p journal.Phase) string {
	if p == "run" {
		return "Run"
	}
	return journal.WindowOf(p).Title
}

func stepOf(e journal.Entry) stepView {
	s := stepView{Step: e.Step, Action: e.Action, Status: e.Status, Manual: e.Manual, Error: e.Error}
	if !e.Time.IsZero() {
		s.Ended = e.Time.UTC().Format("15:04:05")
	}
	if d := e.Duration; d > 0 {
		s.Took = round(d).String()
	} else if !e.Started.IsZero() {
		s.Took = round(e.Time.Sub(e.Started)).String()
	}
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.Data = append(s.Data, kv{k, clip(e.Data[k], maxEvidence)})
	}
	return s
}

func gateOf(g *Gate) gateView {
	gv := gateView{Name: g.Name, File: filepath.Base(g.File)}
	if g.JUnit != "" {
		gv.JUnit = filepath.Base(g.JUnit)
	}
	res := g.Result
	for _, t := range res.Tests {
		depth := strings.Count(t.Name, "/")
		tv := testView{Name: t.Name, Short: t.Name[strings.LastIndex(t.Name, "/")+1:], Depth: depth,
			Status: string(t.Status), Elapsed: round(t.Elapsed).String()}
		switch t.Status {
		case gotestjson.Passed:
			gv.Passed++
		case gotestjson.Failed:
			gv.Failed++
			tv.Message = res.Reason(t)
		case gotestjson.Skipped:
			gv.Skipped++
			tv.Message = t.Message()
		default:
			gv.Unfinished++
			tv.Message = "did not finish (crashed or timed out)"
		}
		lines := t.Lines()
		if len(lines) > 12 {
			lines = append([]string{fmt.Sprintf("… %d earlier lines in %s", len(lines)-12, gv.File)}, lines[len(lines)-12:]...)
		}
		for i := range lines {
			lines[i] = clip(lines[i], maxEvidence)
		}
		tv.Lines = lines
		tv.Message = clip(tv.Message, maxEvidence)
		gv.Tests = append(gv.Tests, tv)
	}
	// Parents before their subtests, in the order they started.
	sortTests(gv.Tests)
	if res.PackageFailed() && gv.Failed == 0 {
		gv.PackageFailure, _ = packageFailure(g)
	}
	return gv
}

// sortTests orders tests as a tree: each top-level test, then its subtests,
// keeping start order within a level.
func sortTests(ts []testView) {
	index := map[string]int{}
	for i, t := range ts {
		index[t.Name] = i
	}
	key := func(t testView) []int {
		parts := strings.Split(t.Name, "/")
		k := make([]int, len(parts))
		for i := range parts {
			prefix := strings.Join(parts[:i+1], "/")
			if n, ok := index[prefix]; ok {
				k[i] = n
			} else {
				k[i] = index[t.Name]
			}
		}
		return k
	}
	sort.SliceStable(ts, func(i, j int) bool {
		a, b := key(ts[i]), key(ts[j])
		for n := 0; n < len(a) && n < len(b); n++ {
			if a[n] != b[n] {
				return a[n] < b[n]
			}
		}
		return len(a) < len(b)
	})
}

// took formats a duration for the timeline ("42s", "5m30s", "1h", "24m").
func took(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
